import Foundation

/// Reports a run's progress on standard error (never standard output), from any thread.
///
/// - `.live` (standard error is a terminal): one line redrawn in place with `\r` and clear-to-end-of-
///   line (`ESC [K`), showing cells done, the settings and epoch of the cell last heard from, elapsed
///   time and ETA, cut to the terminal width. Epoch updates redraw at most every
///   `minimumRedrawInterval` seconds; a finished cell always redraws.
/// - `.lines` (not a terminal): one `ProgressFormat.finishedCellLine` per finished cell.
/// - `.silent` (`--quiet`): nothing.
///
/// Every method takes a lock, because cells finish on several threads.
public final class ProgressReporter: @unchecked Sendable {  // Sendable: every method takes `lock`
    /// How progress is shown.
    public enum Style: Equatable, Sendable {
        /// A single line redrawn in place (a terminal).
        case live
        /// A line per finished cell (a file or pipe).
        case lines
        /// No progress at all.
        case silent
    }

    /// Epoch updates closer together than this (seconds) do not redraw the live line.
    public static let minimumRedrawInterval = 0.1

    /// How progress is shown.
    public let style: Style
    private let total: Int
    private let columns: @Sendable () -> Int
    private let clock: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private let start: Double
    private let lock = NSLock()

    // State below is guarded by `lock`.
    private var done: Int
    private var finishedHere = 0
    private var cell: String?
    private var epoch: (current: Int, of: Int)?
    private var lastDraw: Double?
    private var finished = false

    /// A reporter for `totalCells` cells of which `alreadyDone` were finished by an earlier run (they
    /// count as done but not in the ETA, which uses only cells finished here).
    ///
    /// - Parameters:
    ///   - columns: the terminal width, read at every redraw.
    ///   - clock: seconds on a monotonic clock.
    ///   - write: where the text goes.
    public init(
        totalCells: Int, alreadyDone: Int = 0, style: Style,
        columns: @escaping @Sendable () -> Int = { Terminal.columns(of: 2) },
        clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 },
        write: @escaping @Sendable (String) -> Void = Terminal.writeToStandardError
    ) {
        self.total = totalCells
        self.done = alreadyDone
        self.style = style
        self.columns = columns
        self.clock = clock
        self.write = write
        self.start = clock()
    }

    /// The style for standard error: `.silent` when `quiet`, else `.live` on a terminal and `.lines`
    /// off one.
    public static func standardErrorStyle(quiet: Bool) -> Style {
        if quiet { return .silent }
        return Terminal.isTerminal(2) ? .live : .lines
    }

    /// A cell with these settings (`batch_size=4 momentum=0.1 seed=1`) started training.
    public func cellStarted(_ settings: String) {
        update(redrawAlways: true) {
            cell = settings
            epoch = nil
        }
    }

    /// The cell with these settings finished epoch `epoch` of `epochs`.
    public func epochFinished(_ settings: String, epoch: Int, of epochs: Int) {
        update(redrawAlways: false) {
            cell = settings
            self.epoch = (epoch, epochs)
        }
    }

    /// The cell with these settings finished after `seconds`: `outcome` is `ok` or `failed`, `summary`
    /// the caller's text (`eval 41.2%, train-mode 97.9%`).
    public func cellFinished(_ settings: String, outcome: String, seconds: Double, summary: String) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        done += 1
        finishedHere += 1
        switch style {
        case .live: draw()
        case .lines:
            write(ProgressFormat.finishedCellLine(done: done, total: total, cell: settings, outcome: outcome,
                                                  seconds: seconds, summary: summary) + "\n")
        case .silent: break
        }
    }

    /// Writes `text` as its own line (a warning, say) without garbling the live line, which is redrawn
    /// below it. Written in every style, `.silent` included: it is not progress.
    public func printLine(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        if style == .live && lastDraw != nil && !finished {
            write("\r\u{1B}[K" + text + "\n")
            draw()
        } else {
            write(text + "\n")
        }
    }

    /// Ends the output: the live line is drawn a last time and closed with a newline. Later calls,
    /// to this or any other method but `printLine`, write nothing.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        if style == .live {
            draw()
            write("\n")
        }
        finished = true
    }

    /// Applies `change` under the lock, then redraws the live line if due.
    private func update(redrawAlways: Bool, _ change: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        change()
        guard style == .live else { return }
        if redrawAlways || lastDraw.map({ clock() - $0 >= Self.minimumRedrawInterval }) ?? true { draw() }
    }

    /// Redraws the live line; the caller holds the lock. One column is left free so the line never
    /// reaches the right margin, where terminals wrap.
    private func draw() {
        let now = clock()
        let elapsed = now - start
        let eta = ProgressFormat.eta(elapsed: elapsed, finished: finishedHere, remaining: total - done)
        let line = ProgressFormat.liveLine(done: done, total: total, cell: cell, epoch: epoch,
                                           elapsed: elapsed, eta: eta, maxLength: columns() - 1)
        write("\r" + line + "\u{1B}[K")
        lastDraw = now
    }
}
