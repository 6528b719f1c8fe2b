#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The few terminal facts progress output needs.
public enum Terminal {
    /// The width assumed when the width cannot be read (not a terminal, or a zero size).
    public static let defaultColumns = 100

    /// Whether file descriptor `descriptor` is a terminal (`isatty`).
    public static func isTerminal(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1
    }

    /// The width in columns of the terminal on `descriptor` (`ioctl TIOCGWINSZ`), or
    /// `defaultColumns` when it cannot be read.
    public static func columns(of descriptor: Int32) -> Int {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return defaultColumns }
        return Int(size.ws_col)
    }

    /// Writes `text` to standard error as UTF-8, unbuffered.
    @Sendable public static func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
