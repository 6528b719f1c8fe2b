import Foundation
import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

/// Named variants: `variant NAME KEY=VALUE ...` lines chosen by `sweep variant ...`.
final class SpecVariantTests: XCTestCase {
    /// The remedy x batch size grid of the README, with one variant left unused.
    static let remedies = """
        variant plain-bn                                  # no overrides
        variant group-norm      norm=group
        variant frozen-bn       frozen_bn_epochs=1
        variant ghost-bn-4      ghost_batch_size=4 batch_size=32
        variant recal-update-bn recalibrate_estimator=mean-of-batch-variances
        sweep variant plain-bn group-norm frozen-bn ghost-bn-4
        sweep batch_size 1 2 4 8
        """

    // MARK: Parsing and the grid

    func testVariantsParseIntoOverridesInTableOrder() throws {
        let spec = try parseSpec(Self.remedies)
        XCTAssertEqual(spec.variants.map(\.name),
                       ["plain-bn", "group-norm", "frozen-bn", "ghost-bn-4", "recal-update-bn"])
        XCTAssertEqual(spec.variants.map(\.location.line), [1, 2, 3, 4, 5])
        XCTAssertEqual(spec.variants[0].overrides.count, 0)
        // ghost_batch_size comes before batch_size in the key table, whatever the word order.
        let ghost = spec.variants[3]
        XCTAssertEqual(ghost.overrides.map(\.key), ["ghost_batch_size", "batch_size"])
        XCTAssertEqual(ghost.overrides.map(\.canonicalValue), ["4", "32"])
        XCTAssertEqual(ghost.overrides.map(\.location), [SourceLocation(line: 4, column: 25),
                                                         SourceLocation(line: 4, column: 44)])
        XCTAssertEqual(ghost.overrides.map(\.valueLocation), [SourceLocation(line: 4, column: 42),
                                                              SourceLocation(line: 4, column: 55)])
        XCTAssertEqual(spec.sweptKeys, ["variant", "batch_size"])
        XCTAssertEqual(spec.cells().count, 4 * 4)
    }

    func testCellKeysKeepTheSweptValuesAsWrittenAndStayUnique() throws {
        let cells = try parseSpec(Self.remedies).cells()
        XCTAssertEqual(cells.map { $0.cellKey() }, [
            "variant=plain-bn batch_size=1 seed=0", "variant=plain-bn batch_size=2 seed=0",
            "variant=plain-bn batch_size=4 seed=0", "variant=plain-bn batch_size=8 seed=0",
            "variant=group-norm batch_size=1 seed=0", "variant=group-norm batch_size=2 seed=0",
            "variant=group-norm batch_size=4 seed=0", "variant=group-norm batch_size=8 seed=0",
            "variant=frozen-bn batch_size=1 seed=0", "variant=frozen-bn batch_size=2 seed=0",
            "variant=frozen-bn batch_size=4 seed=0", "variant=frozen-bn batch_size=8 seed=0",
            "variant=ghost-bn-4 batch_size=1 seed=0", "variant=ghost-bn-4 batch_size=2 seed=0",
            "variant=ghost-bn-4 batch_size=4 seed=0", "variant=ghost-bn-4 batch_size=8 seed=0",
        ])
        // The ghost cells train alike (batch_size 32 each) but remain four cells.
        let ghost = cells.filter { $0.variant == "ghost-bn-4" }
        XCTAssertEqual(ghost.map(\.batchSize), [32, 32, 32, 32])
        XCTAssertEqual(ghost.map(\.sweptValues), [["ghost-bn-4", "1"], ["ghost-bn-4", "2"], ["ghost-bn-4", "4"],
                                                  ["ghost-bn-4", "8"]])
        XCTAssertEqual(Set(ghost.map(\.canonicalDescription)).count, 1)
        XCTAssertEqual(Set(cells).count, cells.count, "the cells differ as values, too")
        // Stable: parsing again gives the same keys and hash.
        let again = try parseSpec(Self.remedies)
        XCTAssertEqual(again.cells().map { $0.cellKey() }, cells.map { $0.cellKey() })
        XCTAssertEqual(again.resolvedHash, try parseSpec(Self.remedies).resolvedHash)
    }

    func testPrecedenceDefaultsFixedSweptVariant() throws {
        let spec = try parseSpec("""
            epochs 4
            dropout 0.1
            variant keep
            variant wide epochs=6 batch_size=64 lr=0.5
            sweep batch_size 8 16
            sweep variant keep wide
            quick epochs=1
            """)
        let cells = spec.cells()
        // keep: the fixed and swept values; wide: its overrides win over both.
        XCTAssertEqual(cells.map(\.epochs), [4, 6, 4, 6])
        XCTAssertEqual(cells.map(\.batchSize), [8, 64, 16, 64])
        XCTAssertEqual(cells.map(\.optimizer.learningRate), [0.01, 0.5, 0.01, 0.5])
        XCTAssertEqual(cells.map(\.dropProbability), [0.1, 0.1, 0.1, 0.1], "a key no variant sets keeps its line")
        XCTAssertEqual(cells.map { $0.cellKey() }, ["batch_size=8 variant=keep seed=0", "batch_size=8 variant=wide seed=0",
                                                    "batch_size=16 variant=keep seed=0", "batch_size=16 variant=wide seed=0"])
        // Under --quick the quick override replaces the fixed line, and the variant still wins.
        XCTAssertEqual(spec.cells(quick: true).map(\.epochs), [1, 6, 1, 6])
    }

    func testVariantReadsValuesLikeTheirOwnLines() throws {
        let spec = try parseSpec("""
            variant a momentum=cumulative test_normalize=0.5,2 dropout=2.5e-1 recalibrate_samples=all
            variant b momentum=0.10 test_normalize=own dropout=0 recalibrate_samples=100 track_running_stats=off
            sweep variant a b
            """)
        let a = try XCTUnwrap(spec.cells().first), b = try XCTUnwrap(spec.cells().last)
        XCTAssertEqual(a.momentum, .cumulative)
        XCTAssertEqual(a.testNormalize, .fixed(mean: 0.5, std: 2))
        XCTAssertEqual(a.dropProbability, 0.25)
        XCTAssertEqual(b.momentum, .exponential(0.1))
        XCTAssertEqual(b.recalibrateSamples, .count(100))
        XCTAssertFalse(b.trackRunningStats)
        XCTAssertEqual(spec.variants[1].overrides.map(\.canonicalValue), ["own", "0.1", "off", "0", "100"])
    }

    func testQuickSweepOfVariants() throws {
        let spec = try parseSpec("""
            variant bn
            variant gn norm=group
            variant ln norm=layer
            sweep variant bn gn ln
            sweep batch_size 2 32
            quick_sweep variant ln bn
            """)
        XCTAssertEqual(spec.cells().count, 6)
        XCTAssertEqual(spec.cells(quick: true).map { $0.cellKey() }, [
            "variant=ln batch_size=2 seed=0", "variant=ln batch_size=32 seed=0",
            "variant=bn batch_size=2 seed=0", "variant=bn batch_size=32 seed=0",
        ])
        XCTAssertEqual(spec.cells(quick: true).map(\.norm), [.layer, .layer, .batch, .batch])
        XCTAssertEqual(spec.warnings, [])
    }

    func testSettingColumnsShowTheVariantFirstAndTheValuesUsed() throws {
        let cells = try parseSpec(Self.remedies).cells()
        let ghost = try XCTUnwrap(cells.first { $0.cellKey() == "variant=ghost-bn-4 batch_size=2 seed=0" })
        let columns = ghost.settingColumns
        XCTAssertEqual(columns.first, ["variant", "ghost-bn-4"])
        XCTAssertEqual(columns.map { $0[0] }, ["variant"] + SpecKeyTable.settings.filter {
            $0.sweepable && !$0.hasColumnOnlyWhereUsed  // this spec writes none of those
        }.map(\.name))
        XCTAssertTrue(columns.contains(["batch_size", "32"]), "the value used, not the swept 2")
        XCTAssertTrue(columns.contains(["ghost_batch_size", "4"]))
        XCTAssertEqual(ghost.canonicalValue(of: "variant"), "ghost-bn-4")
        // Without variants there is no variant column.
        let plain = try XCTUnwrap(parseSpec("sweep batch_size 2 4").cells().first)
        XCTAssertEqual(plain.settingColumns.first?[0], "jitter_apply")
        XCTAssertNil(plain.canonicalValue(of: "variant"))
    }

    func testSummaryKeepsCellsThatTrainAlikeApart() throws {
        let cells = try parseSpec(Self.remedies + "\nseeds 0 1").cells()
        let records = cells.enumerated().map { index, cell in
            var m = CellMeasurements()
            m[.testAccEvalMode] = Double(index)
            return CellRecord(index: index, key: cell.cellKey(), settings: cell.settingColumns, seed: cell.seed,
                              measurements: m)
        }
        let summary = Table(csv: ResultTables(spec: "r", records: records).summary)
        XCTAssertEqual(summary.rows.count, 16, "one row per cell, seeds averaged")
        XCTAssertEqual(summary.rows.map { summary.value($0, "seeds") }, Array(repeating: "2", count: 16))
        XCTAssertEqual(summary.value(summary.rows[12], "variant"), "ghost-bn-4")
        XCTAssertEqual(summary.value(summary.rows[12], "batch_size"), "32")
        // Cell 12 holds records 24 and 25: mean 24.5.
        XCTAssertEqual(summary.value(summary.rows[12], "test_acc_eval_mode_mean"), "24.50")
        XCTAssertEqual(Summary.cellKeyWithoutSeed("variant=a batch_size=2 seed=10"), "variant=a batch_size=2")
        XCTAssertEqual(Summary.cellKeyWithoutSeed("seed=3"), "")
    }

    // MARK: The hash

    func testHashFollowsTheVariantsEffectAndName() throws {
        let base = "variant a norm=group groups=4\nvariant b\nsweep variant a b\nseeds 0 1"
        let hash = try parseSpec(base).resolvedHash
        XCTAssertEqual(try parseSpec("# spelt differently\nsweep variant a b\nvariant b\nseeds 0 1\n"
                                     + "variant a   groups=04 norm=group").resolvedHash, hash)
        XCTAssertNotEqual(try parseSpec(base.replacingOccurrences(of: "groups=4", with: "groups=2")).resolvedHash, hash)
        XCTAssertNotEqual(try parseSpec(base.replacingOccurrences(of: "variant b", with: "variant b dropout=0.5"))
            .resolvedHash, hash)
        // Renaming changes the hash: journal rows are keyed by the name.
        let renamed = "variant c norm=group groups=4\nvariant b\nsweep variant c b\nseeds 0 1"
        XCTAssertNotEqual(try parseSpec(renamed).resolvedHash, hash)
        // The description ends with the variant and the seed; without variants it is unchanged.
        let cell = try XCTUnwrap(parseSpec(base).cells().first)
        XCTAssertTrue(cell.canonicalDescription.contains("norm group\ngroups 4\n"))
        XCTAssertTrue(cell.canonicalDescription.hasSuffix("metric_bug off\nvariant a\nseed 0\n"))
        XCTAssertEqual(try parseSpec("variant b\nsweep variant b").cells().first?.canonicalDescription,
                       ExperimentConfig().canonicalDescription.replacingOccurrences(of: "seed 0", with: "variant b\nseed 0"))
    }

    // MARK: Errors at the variant line

    func testVariantLineErrors() {
        assertSpecError("variant", "t.spec:1:1: error: 'variant' needs a name: variant NAME [KEY=VALUE ...]")
        assertSpecError("variant norm=group", "t.spec:1:9: error: a variant name is letters, digits, '-' and '_',"
                        + " got 'norm=group'; write 'variant NAME norm=group'")
        assertSpecError("variant gn!", "t.spec:1:9: error: a variant name is letters, digits, '-' and '_', got 'gn!'")
        assertSpecError("variant gn norm=group\nvariant gn norm=layer",
                        "t.spec:2:9: error: duplicate variant 'gn' (first defined on line 1)")
        assertSpecError("variant gn  momentun=0.2", "t.spec:1:13: error: unknown keyword 'momentun' for variant 'gn';"
                        + " did you mean 'momentum'?")
        assertSpecError("variant gn group", "t.spec:1:12: error: variant 'gn': expected name=value, got 'group'")
        assertSpecError("variant gn norm=group groups=4 norm=layer",
                        "t.spec:1:32: error: keyword 'norm' given twice for variant 'gn' (first at column 12)")
        assertSpecError("variant small batch_size=0", "t.spec:1:26: error: batch_size must be >= 1, got '0'")
        assertSpecError("variant x dropout=1", "t.spec:1:19: error: dropout must be in [0, 1), got '1'")
        assertSpecError("variant x norm=", "t.spec:1:16: error: norm must be one of batch, group, layer, batchrenorm,"
                        + " mabn, cbn, frn, evonorm_s0, evonorm_b0, none, fixup; got ''")
        assertSpecError("variant x test_normalize=0.5,0",
                        "t.spec:1:30: error: test_normalize std must be > 0, got '0'")
        assertSpecError("variant x ghost_batch_size=on",
                        "t.spec:1:28: error: ghost_batch_size must be 'off' or an integer >= 2, got 'on'")
    }

    func testKeysThatAreNotOneWordSettingsAreRefused() {
        for key in ["dataset", "model", "optimizer", "renorm", "jitter"] {
            assertSpecError("variant x epochs=2 \(key)=a", "t.spec:1:20: error: '\(key)' takes several words and cannot"
                            + " be set by a variant; a variant overrides settings with one-word values (give \(key)"
                            + " its own line)")
        }
        for key in ["quick", "quick_sweep", "sweep", "variant"] {
            assertSpecError("variant x \(key)=a", "t.spec:1:11: error: '\(key)' is not a setting and cannot be set by a variant")
        }
        assertSpecError("variant x seeds=1", "t.spec:1:11: error: 'seeds' is not a setting and cannot be set by a"
                        + " variant; the seeds are the innermost axis, shared by every variant")
        assertSpecError("variant a\nsweep variant a\nquick variant=a",
                        "t.spec:3:7: error: quick cannot choose a variant; write 'quick_sweep variant NAME ...'")
    }

    func testSweptNamesMustBeDefined() {
        assertSpecError("variant group-norm norm=group\nvariant bn\nsweep variant bn grup-norm",
                        "t.spec:3:18: error: unknown variant 'grup-norm'; did you mean 'group-norm'?")
        assertSpecError("variant bn\nsweep variant bn zzz", "t.spec:2:18: error: unknown variant 'zzz' (the variants are bn)")
        assertSpecError("sweep variant a", "t.spec:1:15: error: unknown variant 'a'; define it with a line 'variant a KEY=VALUE ...'")
        assertSpecError("variant a\nvariant b\nsweep variant a b\nquick_sweep variant zz",
                        "t.spec:4:21: error: unknown variant 'zz' (the variants are a, b)")
        assertSpecError("variant a\nsweep variant a a", "t.spec:2:17: error: duplicate value 'a' in the sweep of variant"
                        + " (same as 'a' at column 15)")
        assertSpecError("variant a\nsweep variant a\nsweep variant a", "t.spec:3:7: error: duplicate sweep of 'variant'"
                        + " (first on line 2)")
        assertSpecError("variant a\nsweep variant", "t.spec:2:7: error: the sweep of 'variant' has no values")
    }

    func testUnusedVariantsWarn() throws {
        let spec = try parseSpec(Self.remedies)
        XCTAssertEqual(spec.warnings.map(\.description),
                       ["t.spec:5:9: warning: variant 'recal-update-bn' is defined but no 'sweep variant' line names it"])
        let none = try parseSpec("epochs 2\nvariant spare dropout=0.5")
        XCTAssertEqual(none.warnings.map(\.description),
                       ["t.spec:2:9: warning: variant 'spare' is defined but no 'sweep variant' line names it"])
        XCTAssertEqual(none.cells().map(\.dropProbability), [0], "an unused variant changes nothing")
        // Used only under --quick still counts as used.
        XCTAssertEqual(try parseSpec("variant a\nvariant b\nsweep variant a\nquick_sweep variant b").warnings, [])
        // A value's own warning comes from the variant line.
        XCTAssertEqual(try parseSpec("variant m momentum=0.9\nsweep variant m").warnings.map(\.location),
                       [SourceLocation(line: 1, column: 20)])
    }

    // MARK: Rules after the overrides

    func testCellRulesBlameTheVariantThatBrokeThem() {
        // The variant turns GroupNorm on: groups 8 (the default) does not divide 12.
        assertSpecError("model cnn channels=12\nvariant bn\nvariant gn norm=group\nsweep variant bn gn",
                        "t.spec:3:17: error: groups 8 (the default) does not divide channel count 12 of the model;"
                        + " GroupNorm needs groups to divide every channel count")
        // The variant's groups is the bad one.
        assertSpecError("norm group\nvariant g3 groups=3\nsweep variant g3",
                        "t.spec:2:19: error: groups 3 does not divide channel count 16 of the model;"
                        + " GroupNorm needs groups to divide every channel count")
        // Fixed groups 5 divides 10; the variant's own norm and groups do not fit: its groups is blamed.
        assertSpecError("model mlp widths=10\ngroups 5\nsweep norm batch group\nvariant a\nvariant g norm=group groups=3\n"
                        + "sweep variant a g",
                        "t.spec:5:29: error: groups 3 does not divide width 10 of the model;"
                        + " GroupNorm needs groups to divide every width")
        assertSpecError("epochs 2\nvariant f frozen_bn_epochs=3\nsweep variant f",
                        "t.spec:2:28: error: frozen_bn_epochs 3 exceeds epochs 2")
        // The variant shortens the training under a fixed frozen_bn_epochs: the variant's epochs is blamed.
        assertSpecError("frozen_bn_epochs 2\nvariant long\nvariant short epochs=1\nsweep variant long short",
                        "t.spec:3:22: error: frozen_bn_epochs 2 exceeds epochs 1")
    }

    func testRelevanceIsJudgedPerSource() throws {
        // Keys that only some variants use are fine where they act.
        XCTAssertNoThrow(try parseSpec(Self.remedies))
        XCTAssertNoThrow(try parseSpec("momentum 0.2\nvariant bn\nvariant gn norm=group\nsweep variant bn gn"))
        XCTAssertNoThrow(try parseSpec("groups 4\nvariant bn\nvariant gn norm=group\nsweep variant bn gn"))
        // A variant's override must act in its own cells, even where other cells use the key.
        assertSpecError("variant bn momentum=0.2\nvariant gn norm=group momentum=0.3\nsweep variant bn gn",
                        "t.spec:2:32: error: 'momentum' is set by variant 'gn' but has no effect in its cells:"
                        + " no cell uses a norm whose running statistics follow "
                        + "it (batch, batchrenorm, cbn or evonorm_b0)")
        // A fixed line must act where it is in force, not only where a variant replaced it.
        assertSpecError("norm layer\nmomentum 0.2\nvariant bn norm=batch momentum=0.1\nvariant ln\nsweep variant bn ln",
                        "t.spec:2:10: error: 'momentum' is set but has no effect: no cell uses a norm whose running statis"
                        + "tics follow it (batch, batchrenorm, cbn or evonorm_b0)")
        assertSpecError("variant a base_batch_size=8\nsweep variant a",
                        "t.spec:1:27: error: 'base_batch_size' is set by variant 'a' but has no effect in its cells:"
                        + " lr_scaling is none")
        // Under --quick only the quick line is judged, and the variants of the full grid.
        XCTAssertNoThrow(try parseSpec("variant bn\nvariant gn norm=group groups=4\nsweep variant bn gn\n"
                                       + "quick_sweep variant bn"))
    }

    func testLinesThatEveryVariantOverridesAreRefused() {
        assertSpecError("batch_size 16\nvariant a batch_size=8\nvariant b batch_size=4\nsweep variant a b",
                        "t.spec:1:1: error: 'batch_size' is set but has no effect: the variant of every cell overrides it")
        assertSpecError("sweep batch_size 1 2\nvariant a batch_size=8\nsweep variant a",
                        "t.spec:1:7: error: 'batch_size' is set but has no effect: the variant of every cell overrides it")
        assertSpecError("variant a epochs=2\nsweep variant a\nquick epochs=1",
                        "t.spec:3:7: error: 'epochs' is set but has no effect: the variant of every cell overrides it")
        // One variant that keeps the line is enough.
        XCTAssertNoThrow(try parseSpec("batch_size 16\nvariant a batch_size=8\nvariant b\nsweep variant a b"))
    }

    // MARK: Documentation

    func testReadmeVariantExample() throws {
        let readme = try String(contentsOf: SpecDocumentationTests.readmeURL, encoding: .utf8)
        let blocks = readme.components(separatedBy: "```spec\n").dropFirst()
            .map { $0.components(separatedBy: "```")[0] }
        let text = try XCTUnwrap(blocks.first { $0.contains("sweep variant") }, "a ```spec example with variants")
        let spec = try Spec.parse(text: text, path: "Experiments/remedies.spec")
        XCTAssertEqual(spec.sweptKeys, ["variant", "batch_size"])
        XCTAssertEqual(spec.cells().count, 5 * 4 * 2)
        XCTAssertEqual(spec.cells().first?.cellKey(), "variant=plain-bn batch_size=1 seed=0")
        XCTAssertEqual(spec.cells(quick: true).count, 2 * 2 * 1)
        XCTAssertEqual(spec.warnings, [])
    }
}
