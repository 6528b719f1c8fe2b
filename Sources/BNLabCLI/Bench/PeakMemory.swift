import Foundation

/// The process's peak resident memory: `VmHWM` of `/proc/self/status`.
///
/// Linux keeps one high-water mark per address space; ``reset()`` lowers it to the current
/// resident size (`echo 5 > /proc/self/clear_refs`, Linux 4.0+), so that a reading after a
/// configuration is that configuration's peak rather than the largest so far.
/// Not `getrusage(RUSAGE_SELF).ru_maxrss`: that one also keeps the peak of the process image
/// before `execve` (the forked copy of the parent), so under a parent that had grown large
/// (the PyTorch benchmark script after importing torch) every row read 700-900 MiB.
enum PeakMemory {
    /// Peak resident set size in MiB; NaN where `/proc/self/status` has no `VmHWM` line.
    static var mebibytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return .nan }
        return kib / 1024
    }

    /// Resets the high-water mark; returns false where the kernel does not allow it.
    @discardableResult
    static func reset() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }
}
