import Foundation

/// A run's journal opened for appending, with what an earlier run of the same
/// resolved spec left in it.
///
/// Rules, applied by ``open(path:specName:hash:fresh:)``:
/// - no journal (or one killed while its header was written): a new one is started;
/// - `fresh`: the journal is emptied and started again;
/// - a journal whose header hash differs from `hash` (the spec changed): it is moved
///   aside to `<path>.stale-<old hash>` and a new one is started, so results of two
///   versions of a spec never mix;
/// - otherwise its valid records are kept (the first of any repeated cell key), and the
///   file is truncated to its valid prefix before the next append, dropping a torn or
///   corrupt tail.
public struct JournalResume {
    /// The journal, open for appending.
    public let journal: Journal
    /// Cells already done, in file order, each key once.
    public let records: [CellRecord]
    /// Torn or corrupt lines dropped from the end of the old journal.
    public let droppedLines: Int
    /// Where an out-of-date journal was moved, when one was.
    public let movedAside: String?

    /// Opens the journal at `path` for a run of the spec `specName` whose resolved hash is `hash`.
    /// - Throws: ``Journal/JournalError`` when the file is not a journal or cannot be opened or moved.
    public static func open(path: String, specName: String, hash: String, fresh: Bool) throws -> JournalResume {
        let old = fresh ? nil : try Journal.read(path: path)
        guard let old, old.hasHeader else {
            let journal = try Journal(path: path, specName: specName, hash: hash, truncateTo: 0)
            return JournalResume(journal: journal, records: [], droppedLines: old?.droppedLines ?? 0, movedAside: nil)
        }
        guard old.hash == hash else {
            let stale = path + ".stale-" + old.hash
            try? FileManager.default.removeItem(atPath: stale)
            do {
                try FileManager.default.moveItem(atPath: path, toPath: stale)
            } catch {
                throw Journal.JournalError(path: path, message: "cannot move the out-of-date journal aside: \(error.localizedDescription)")
            }
            let journal = try Journal(path: path, specName: specName, hash: hash, truncateTo: 0)
            return JournalResume(journal: journal, records: [], droppedLines: 0, movedAside: stale)
        }
        var seen = Set<String>()
        let records = old.records.filter { seen.insert($0.key).inserted }
        let journal = try Journal(path: path, specName: specName, hash: hash, truncateTo: old.validBytes)
        return JournalResume(journal: journal, records: records, droppedLines: old.droppedLines, movedAside: nil)
    }
}
