import Foundation

/// The process's peak resident memory, `getrusage(RUSAGE_SELF).ru_maxrss`.
///
/// Linux keeps one high-water mark per process; ``reset()`` lowers it to the current
/// resident size (`echo 5 > /proc/self/clear_refs`, Linux 4.0+), so that a reading after a
/// configuration is that configuration's peak rather than the largest so far.
enum PeakMemory {
    /// Peak resident set size in MiB (ru_maxrss is in KiB on Linux).
    static var mebibytes: Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
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
