import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat
import TensorCore

/// Grid expansion, quick runs, cell keys and the resolved hash.
final class SpecGridTests: XCTestCase {
    func testTwoSweepsTimesTwoSeedsInNestedLoopOrder() throws {
        let spec = try parseSpec("""
            sweep batch_size 4 8     # outer loop
            sweep momentum 0.1 0.01  # inner loop
            seeds 0 1                # innermost
            """)
        XCTAssertEqual(spec.sweptKeys, ["batch_size", "momentum"])
        XCTAssertEqual(spec.cells().map { $0.cellKey() }, [
            "batch_size=4 momentum=0.1 seed=0",
            "batch_size=4 momentum=0.1 seed=1",
            "batch_size=4 momentum=0.01 seed=0",
            "batch_size=4 momentum=0.01 seed=1",
            "batch_size=8 momentum=0.1 seed=0",
            "batch_size=8 momentum=0.1 seed=1",
            "batch_size=8 momentum=0.01 seed=0",
            "batch_size=8 momentum=0.01 seed=1",
        ])
        let last = try XCTUnwrap(spec.cells().last)
        XCTAssertEqual(last.batchSize, 8)
        XCTAssertEqual(last.momentum, .exponential(0.01))
        XCTAssertEqual(last.seed, 1)
    }

    func testCellKeysUseCanonicalValues() throws {
        let spec = try parseSpec("sweep dropout 0 0.50 2.5e-1\n"
                                 + "sweep momentum cumulative 1\nsweep ghost_batch_size off 4\nsweep recalibrate_samples all 100")
        XCTAssertEqual(spec.cells().first?.cellKey(),
                       "dropout=0 momentum=cumulative ghost_batch_size=off recalibrate_samples=all seed=0")
        XCTAssertEqual(spec.cells().last?.cellKey(),
                       "dropout=0.25 momentum=1 ghost_batch_size=4 recalibrate_samples=100 seed=0")
        XCTAssertEqual(spec.cells().count, 3 * 2 * 2 * 2)
        XCTAssertEqual(Set(spec.cells().map { $0.cellKey() }).count, spec.cells().count, "cell keys are unique")
    }

    func testNoSweepIsOneCellPerSeed() throws {
        let spec = try parseSpec("seeds 7 3")
        XCTAssertEqual(spec.cells().map { $0.cellKey() }, ["seed=7", "seed=3"])
        XCTAssertEqual(try parseSpec("epochs 3").cells().map { $0.cellKey() }, ["seed=0"])
    }

    func testFixedSettingsApplyInTableOrderWhateverTheLineOrder() throws {
        // `lr` comes before `optimizer` in the file but still overrides its lr.
        let cell = try XCTUnwrap(parseSpec("lr 0.05\noptimizer adam betas=0.8,0.99").cells().first)
        XCTAssertEqual(cell.optimizer, .adam(AdamSettings(learningRate: 0.05, beta1: 0.8, beta2: 0.99)))
    }

    func testQuickOverridesAndQuickSweep() throws {
        let spec = try parseSpec("""
            epochs 5
            sweep batch_size 4 8 16
            sweep dropout 0 0.5
            seeds 0 1 2
            quick epochs=1 train_split=300 seeds=0
            quick_sweep batch_size 16 4
            """)
        XCTAssertEqual(spec.cells().count, 3 * 2 * 3)
        XCTAssertTrue(spec.cells().allSatisfy { $0.epochs == 5 && $0.trainSplit == 3000 })
        let quick = spec.cells(quick: true)
        XCTAssertEqual(quick.map { $0.cellKey() }, [
            "batch_size=16 dropout=0 seed=0",
            "batch_size=16 dropout=0.5 seed=0",
            "batch_size=4 dropout=0 seed=0",
            "batch_size=4 dropout=0.5 seed=0",
        ])
        XCTAssertTrue(quick.allSatisfy { $0.epochs == 1 && $0.trainSplit == 300 })
        XCTAssertEqual(spec.quickSettings.map(\.key), ["train_split", "epochs"], "quick settings in table order")
        XCTAssertEqual(spec.quickSeeds, [0])
        XCTAssertNotEqual(spec.resolvedHash(quick: true), spec.resolvedHash)
    }

    func testWithoutQuickLinesTheQuickGridIsTheGrid() throws {
        let spec = try parseSpec("sweep lr 0.1 0.01\nseeds 1 2")
        XCTAssertEqual(spec.cells(quick: true), spec.cells())
    }

    func testSpecRecordsItsSettingsWithLocations() throws {
        let spec = try Spec.parse(text: "# header\nepochs 4\nsweep lr 0.1 0.01\n", path: "Experiments/small-batch.spec")
        XCTAssertEqual(spec.name, "small-batch")
        XCTAssertEqual(spec.setting("epochs")?.location, SourceLocation(line: 2, column: 1))
        XCTAssertEqual(spec.setting("epochs")?.valueLocation, SourceLocation(line: 2, column: 8))
        XCTAssertEqual(spec.sweeps.first?.values.map(\.canonicalValue), ["0.1", "0.01"])
        XCTAssertEqual(spec.sweeps.first?.values.last?.location, SourceLocation(line: 3, column: 14))
    }

    func testDatasetPathsResolveAgainstTheSpecDirectory() throws {
        let spec = try Spec.parse(text: "dataset idx images=data/i.idx labels=/abs/l.idx\nmodel mlp widths=8",
                                  path: "Experiments/mnist.spec")
        XCTAssertEqual(spec.cells().first?.dataset, .idx(images: "Experiments/data/i.idx", labels: "/abs/l.idx"))
        let here = try Spec.parse(text: "dataset cifar10 path=a.bin,b.bin", path: "c.spec")
        XCTAssertEqual(here.cells().first?.dataset, .cifar10(batches: ["a.bin", "b.bin"]))
    }

    func testResolvedHashIgnoresSpellingAndFollowsValues() throws {
        let a = try parseSpec("sweep dropout 0.1 0.2\nepochs 3\nseeds 0 1")
        let b = try parseSpec("# same cells\nseeds 0 1\n\tsweep   dropout 0.10 2e-1 # spelt differently\n")
        let c = try parseSpec("sweep dropout 0.1 0.2\nepochs 4\nseeds 0 1")
        XCTAssertEqual(a.resolvedHash, b.resolvedHash)
        XCTAssertNotEqual(a.resolvedHash, c.resolvedHash)
        // The hash is FNV-1a 64 of the cells' canonical descriptions, in grid order.
        let text = a.cells().map(\.canonicalDescription).joined()
        XCTAssertEqual(a.resolvedHash, FNV1a.hex(FNV1a.hash64(text)))
        XCTAssertEqual(a.resolvedHash.count, 16)
    }

    func testCanonicalDescriptionOfTheDefaults() {
        XCTAssertEqual(ExperimentConfig().canonicalDescription, """
            dataset shapes size=16 noise=0.25
            jitter none
            jitter_apply both
            train_split 3000
            test_split 1000
            split_overlap 0
            normalize train
            test_normalize same
            test_storage lossless
            order shuffled
            drop_last on
            model cnn channels=16,32 kernel=3
            norm batch
            groups 8
            momentum 0.1
            momentum_convention pytorch
            track_running_stats on
            ghost_batch_size off
            shared_bn off
            devices 1
            device_bn rank0
            frozen_bn_epochs 0
            renorm rmax=3 dmax=5 warmup_steps=0 ramp_steps=0
            mabn buffer=16 warmup=100
            cbn buffer=3 burnin=0 rho=1 two_stage=on
            dropout 0
            eps 1e-05
            epochs 3
            steps 0
            budget_factor 1
            lr_schedule constant warmup=0 warmup_start=0.33333334
            batch_size 32
            validation off
            validation_batch_size 128
            optimizer sgd lr=0.01 momentum=0.9 dampening=0 weight_decay=0 nesterov=off
            lr 0.01
            lr_scaling none
            base_batch_size 1
            threads 1
            eval_batch_size 128
            recalibrate_samples all
            recalibrate_batch_size 32
            recalibrate_estimator population
            recalibrate_data train
            adapt_prior off
            mc_samples 0
            forgot_eval off
            forgot_eval_batches all
            forgot_eval_shift 0
            class_blocked_eval off
            lossy_reload off
            metric_bug off
            seed 0

            """)
    }
}
