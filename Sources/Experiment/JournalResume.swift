import Foundation

/// A run's journal opened for appending, with what an earlier run of the same
/// resolved spec and the same build left in it.
///
/// Rules, applied by ``open(path:specName:hash:build:fresh:keepStale:)``:
/// - no journal (or one killed while its header was written): a new one is started;
/// - `fresh`: the journal is emptied and started again;
/// - a journal whose header hash differs from `hash` (the spec changed): it is moved
///   aside to `<path>.stale-<old hash>` and a new one is started, so results of two
///   versions of a spec never mix;
/// - a journal of this spec written by another build (its header's `build=` differs from
///   `build`, or is absent: an older bnlab): it is moved aside to
///   `<path>.stale-build-<old build>` (`unrecorded` for an absent one) and a new one is started,
///   so cells computed by two versions of the code never mix; with `keepStale` it is resumed
///   instead, and its header is rewritten to name `build`, which from then on vouches for its cells,
///   unless a record has another number of measured columns than this build's (its values would land
///   in the wrong columns): then it is moved aside as without `keepStale`;
/// - otherwise its valid records are kept (the first of any repeated cell key), and the
///   file is truncated to its valid prefix before the next append, dropping a torn or
///   corrupt tail.
public struct JournalResume {
    /// Why an earlier journal was not resumed as it was.
    public enum Staleness: Equatable, Sendable {
        /// It was written for another resolved spec; moved aside to `movedAside`.
        case specChanged(movedAside: String)
        /// It was written by build `build` (empty: not recorded); moved aside to `movedAside`.
        case otherBuild(String, movedAside: String)
        /// It was written by build `build` (empty: not recorded) and resumed anyway (`keepStale`).
        case otherBuildKept(String)
    }

    /// The journal, open for appending.
    public let journal: Journal
    /// Cells already done, in file order, each key once.
    public let records: [CellRecord]
    /// Torn or corrupt lines dropped from the end of the old journal.
    public let droppedLines: Int
    /// What made the old journal stale, when something did.
    public let staleness: Staleness?

    /// Where an out-of-date journal was moved, when one was.
    public var movedAside: String? {
        switch staleness {
        case .specChanged(let path), .otherBuild(_, let path): return path
        case .otherBuildKept, nil: return nil
        }
    }

    /// The file name suffix of a journal of build `build` moved aside: `.stale-build-<build>`.
    public static func staleBuildSuffix(_ build: String) -> String { ".stale-build-" + (build.isEmpty ? "unrecorded" : build) }

    /// Opens the journal at `path` for a run of the spec `specName` whose resolved hash is `hash`,
    /// by the build `build`.
    /// - Throws: ``Journal/JournalError`` when the file is not a journal or cannot be opened, moved or rewritten.
    public static func open(path: String, specName: String, hash: String, build: String, fresh: Bool,
                            keepStale: Bool = false) throws -> JournalResume {
        let old = fresh ? nil : try Journal.read(path: path)
        guard let old, old.hasHeader else {
            let journal = try Journal(path: path, specName: specName, hash: hash, build: build, truncateTo: 0)
            return JournalResume(journal: journal, records: [], droppedLines: old?.droppedLines ?? 0, staleness: nil)
        }
        // Records hold their measured values by position (``CellRecord/metricColumns``): another build's
        // records with another column count cannot be kept, --keep-stale or not.
        let otherColumns = old.records.contains { $0.metrics.count != CellRecord.metricColumns.count }
        if old.hash != hash || (old.build != build && (!keepStale || otherColumns)) {
            let stale = path + (old.hash != hash ? ".stale-" + old.hash : staleBuildSuffix(old.build))
            try? FileManager.default.removeItem(atPath: stale)
            do {
                try FileManager.default.moveItem(atPath: path, toPath: stale)
            } catch {
                throw Journal.JournalError(path: path, message: "cannot move the out-of-date journal aside: \(error.localizedDescription)")
            }
            let journal = try Journal(path: path, specName: specName, hash: hash, build: build, truncateTo: 0)
            return JournalResume(journal: journal, records: [], droppedLines: 0,
                                 staleness: old.hash != hash ? .specChanged(movedAside: stale)
                                                             : .otherBuild(old.build, movedAside: stale))
        }
        var staleness: Staleness?
        var validBytes = old.validBytes
        if old.build != build {  // keepStale
            validBytes = try Journal.rewriteHeader(path: path, specName: specName, hash: hash, build: build,
                                                   validBytes: old.validBytes)
            staleness = .otherBuildKept(old.build)
        }
        var seen = Set<String>()
        let records = old.records.filter { seen.insert($0.key).inserted }
        let journal = try Journal(path: path, specName: specName, hash: hash, build: build, truncateTo: validBytes)
        return JournalResume(journal: journal, records: records, droppedLines: old.droppedLines, staleness: staleness)
    }
}
