import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

/// Defaults, typed values, canonical text and warnings of every key.
final class SpecSettingsTests: XCTestCase {
    func testEveryDefault() {
        let c = ExperimentConfig()
        XCTAssertEqual(c.dataset, .shapes(size: 16, noise: 0.25))
        XCTAssertEqual(c.jitter, .none)
        XCTAssertEqual(c.jitterApply, .both)
        XCTAssertEqual(c.trainSplit, 3000)
        XCTAssertEqual(c.testSplit, 1000)
        XCTAssertEqual(c.splitOverlap, 0)
        XCTAssertEqual(c.normalize, .train)
        XCTAssertEqual(c.testNormalize, .same)
        XCTAssertEqual(c.order, .shuffled)
        XCTAssertEqual(c.dropLast, true)
        XCTAssertEqual(c.model, .cnn(channels: [16, 32], kernel: 3))
        XCTAssertEqual(c.activation, .relu)
        XCTAssertEqual(c.norm, .batch)
        XCTAssertEqual(c.groups, 8)
        XCTAssertEqual(c.momentum, .exponential(0.1))
        XCTAssertEqual(c.trackRunningStats, true)
        XCTAssertNil(c.ghostBatchSize)
        XCTAssertEqual(c.frozenBNEpochs, 0)
        XCTAssertEqual(c.renorm, RenormSchedule(rMax: 3, dMax: 5, warmupSteps: 0, rampSteps: 0))
        XCTAssertEqual(c.dropProbability, 0)
        XCTAssertEqual(c.eps, 1e-5)
        XCTAssertEqual(c.epochs, 3)
        XCTAssertEqual(c.batchSize, 32)
        XCTAssertEqual(c.optimizer, .sgd(SGDSettings(learningRate: 0.01, momentum: 0.9, dampening: 0,
                                                     weightDecay: 0, nesterov: false)))
        XCTAssertEqual(c.lrScaling, .none)
        XCTAssertEqual(c.baseBatchSize, 1)
        XCTAssertEqual(c.threads, 1)
        XCTAssertEqual(c.seed, 0)
        XCTAssertEqual(c.evalBatchSize, 128)
        XCTAssertEqual(c.recalibrateSamples, .all)
        XCTAssertEqual(c.recalibrateBatchSize, 32)
        XCTAssertEqual(c.recalibrateEstimator, .population)
        XCTAssertEqual(c.recalibrateData, .train)
        XCTAssertEqual(c.mcSamples, 0)
        XCTAssertEqual(c.forgotEval, false)
        XCTAssertEqual(c.sweptKeys, [])
        // A spec that sets nothing but one default yields exactly the defaults.
        XCTAssertEqual(try parseSpec("epochs 3").cells(), [ExperimentConfig()])
        XCTAssertEqual(try parseSpec("seeds 0").warnings, [])
    }

    /// Reads `text` as the value words of `key` and applies them to the defaults.
    private func apply(_ key: SpecKey, _ text: String) throws -> ExperimentConfig {
        guard case let .setting(parse, _) = key.role else { throw SpecProblem(.fileStart, "not a setting") }
        let words = text.split(separator: " ").enumerated().map {
            SpecToken(text: String($0.element), location: SourceLocation(line: 1, column: $0.offset + 1))
        }
        var input = SettingInput(key: SpecToken(text: key.name, location: .fileStart), words: words, directory: "")
        var config = ExperimentConfig()
        try parse(&input)(&config)
        return config
    }

    func testEveryDocumentedDefaultReadsBackToTheDefault() throws {
        for key in SpecKeyTable.settings {
            XCTAssertEqual(try apply(key, key.defaultText), ExperimentConfig(), key.name)
        }
    }

    func testCanonicalTextReadsBackToTheSameValue() throws {
        let spec = try parseSpec("""
            dataset csv path=d/x.csv label_column=last shape=3x8x8 scale=0.5 header=no
            jitter gain=0.5:2 offset=-0.1:0.1
            jitter_apply train
            test_normalize 0.5,0.25
            model mlp widths=64,32
            sweep norm batchrenorm batch
            momentum cumulative
            renorm rmax=2 dmax=1.5 warmup_steps=100 ramp_steps=400
            ghost_batch_size 4
            optimizer adamw betas=0.8,0.99 eps=1e-6
            lr_scaling sqrt
            base_batch_size 32
            recalibrate_samples 500
            recalibrate_estimator mean-of-batch-variances
            """)
        let cell = try XCTUnwrap(spec.cells().first)
        for key in SpecKeyTable.settings {
            let text = try XCTUnwrap(key.render(cell))
            XCTAssertEqual(try apply(key, text).canonicalValue(of: key.name), text, key.name)
        }
    }

    func testTypedValues() throws {
        let c = try XCTUnwrap(parseSpec("""
            dataset csv path=x.csv label_column=2 shape=1x28x28 scale=0.00392156862745098
            jitter gain=0.5:2
            test_normalize own
            order class-blocked
            drop_last off
            model cnn channels=8,16,32 kernel=5
            norm group
            groups 4
            dropout 0.25
            optimizer adamw
            mc_samples 10
            forgot_eval on
            forgot_eval_batches 3
            forgot_eval_shift -1.5
            class_blocked_eval on
            recalibrate_data test
            """).cells().first)
        XCTAssertEqual(c.dataset, .csv(CSVSource(path: "x.csv", labelColumn: .index(2),
                                                 shape: ImageShape(channels: 1, height: 28, width: 28),
                                                 scale: Float(1.0 / 255.0), header: .auto)))
        XCTAssertEqual(c.jitter, .gainOffset(gain: 0.5...2, offset: 0...0))
        XCTAssertEqual(c.testNormalize, .own)
        XCTAssertEqual(c.order, .classBlocked)
        XCTAssertFalse(c.dropLast)
        XCTAssertEqual(c.model, .cnn(channels: [8, 16, 32], kernel: 5))
        XCTAssertEqual(c.norm, .group)
        XCTAssertEqual(c.groups, 4)
        XCTAssertEqual(c.dropProbability, 0.25)
        // adamw: PyTorch's defaults, weight decay 0.01.
        XCTAssertEqual(c.optimizer, .adamw(AdamSettings(learningRate: 0.001, beta1: 0.9, beta2: 0.999,
                                                        eps: 1e-8, weightDecay: 0.01)))
        XCTAssertEqual(c.mcSamples, 10)
        XCTAssertTrue(c.forgotEval)
        XCTAssertEqual(c.forgotEvalBatches, 3)
        XCTAssertEqual(c.forgotEvalShift, -1.5)
        XCTAssertTrue(c.classBlockedEval)
        XCTAssertEqual(c.recalibrateData, .test)
        XCTAssertEqual(c.canonicalValue(of: "lr"), "0.001")
        XCTAssertNil(c.canonicalValue(of: "sweep"))
    }

    func testLearningRateScaling() throws {
        let cells = try parseSpec("lr 0.1\nlr_scaling linear\nbase_batch_size 32\nsweep batch_size 8 128").cells()
        // lr_used = lr * batch_size / base_batch_size: 0.1 * 8/32 and 0.1 * 128/32.
        XCTAssertEqual(cells.map(\.effectiveLearningRate), [0.025, 0.4])
        let sqrt = try parseSpec("lr 0.1\nlr_scaling sqrt\nbase_batch_size 32\nbatch_size 128").cells()
        // 0.1 * sqrt(4) = 0.2; computed in Double then rounded once to Float.
        XCTAssertEqual(sqrt.first?.effectiveLearningRate, 0.2)
        XCTAssertEqual(ExperimentConfig().effectiveLearningRate, 0.01)
    }

    func testMomentumWarningNamesBothConventions() throws {
        let spec = try parseSpec("sweep momentum 0.1 0.9 0.99")
        XCTAssertEqual(spec.warnings.map(\.description), [
            "t.spec:1:20: warning: momentum 0.9 weights the NEW batch by 0.9 in PyTorch's convention;"
                + " Keras/TensorFlow's 0.9 means PyTorch's 0.1 (or set momentum_convention keras)",
            "t.spec:1:24: warning: momentum 0.99 weights the NEW batch by 0.99 in PyTorch's convention;"
                + " Keras/TensorFlow's 0.99 means PyTorch's 0.01 (or set momentum_convention keras)",
        ])
        XCTAssertEqual(try parseSpec("momentum 0.5").warnings, [], "0.5 is the boundary: no warning")
    }

    func testOverlapAndDropLastWarnings() throws {
        XCTAssertEqual(try parseSpec("split_overlap 0.1").warnings.map(\.description), [
            "t.spec:1:15: warning: split_overlap 0.1: 10% of the test split is drawn from the training split,"
                + " so test accuracy overstates generalization (a leakage experiment)",
        ])
        XCTAssertEqual(try parseSpec("drop_last off\nsweep norm batch layer").warnings.map(\.description), [
            "t.spec:1:11: warning: drop_last off keeps each epoch's last, smaller batch; BatchNorm then normalizes"
                + " with the statistics of a few samples (PyTorch refuses a batch with one value per channel)",
        ])
        XCTAssertEqual(try parseSpec("drop_last off\nnorm layer").warnings, [], "no BatchNorm, no warning")
        XCTAssertEqual(try parseSpec("quick momentum=0.75").warnings.map(\.location), [SourceLocation(line: 1, column: 16)])
    }

    func testNumberSyntax() {
        for good in ["0", "-2", "+3", "0.1", ".5", "5e-4", "1E+3", "007"] {
            XCTAssertTrue(SpecNumber.isDecimal(good), good)
        }
        for bad in ["", "1e", "0x10", "nan", "inf", "-inf", "1.", ".", "-", "1e+", "1.2.3", "1_000", " 1", "١"] {
            XCTAssertFalse(SpecNumber.isDecimal(bad), bad)
        }
        XCTAssertTrue(SpecNumber.isInteger("-12"))
        XCTAssertFalse(SpecNumber.isInteger("1.0"))
        XCTAssertEqual([0.1, 0, 3, 0.0005, 1e-5, 0.01].map { SpecNumber.format(Float($0)) },
                       ["0.1", "0", "3", "0.0005", "1e-05", "0.01"])
    }

    func testNearestName() {
        XCTAssertEqual(NearestName.editDistance("batchsize", "batch_size"), 1)
        XCTAssertEqual(NearestName.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(NearestName.nearest(to: "epoch", in: SpecKeyTable.names), "epochs")
        XCTAssertEqual(NearestName.nearest(to: "recalibrate_sample", in: SpecKeyTable.names), "recalibrate_samples")
        XCTAssertNil(NearestName.nearest(to: "x", in: SpecKeyTable.names), "one letter is no misspelling of 'lr'")
        XCTAssertNil(NearestName.nearest(to: String(repeating: "a", count: 4000), in: SpecKeyTable.names))
    }

    /// Keys with a column only where used (min_steps, finetune_*, freeze) are setting columns of the specs that
    /// write them (a fixed line, a sweep, a variant) and of no other spec.
    func testColumnsOnlyWhereUsed() throws {
        func columns(_ text: String) throws -> [String] {
            try XCTUnwrap(Spec.parse(text: text, path: "t.spec").cells().first).settingColumns.map { $0[0] }
        }
        let plain = try columns("epochs 2\n")
        XCTAssertFalse(plain.contains("min_steps"))
        XCTAssertFalse(plain.contains("freeze"))
        XCTAssertEqual(plain.count, SpecKeyTable.sweepableNames.count - 5, "every sweepable key but those four, and variant")
        XCTAssertTrue(try columns("min_steps 100\n").contains("min_steps"))
        XCTAssertTrue(try columns("sweep min_steps 0 100\n").contains("min_steps"))
        let variant = try columns("variant long min_steps=100\nsweep variant long\n")
        XCTAssertTrue(variant.contains("min_steps"))
        XCTAssertFalse(variant.contains("finetune_epochs"))
    }

    func testTableIsConsistent() {
        XCTAssertEqual(Set(SpecKeyTable.names).count, SpecKeyTable.names.count, "no key twice")
        XCTAssertEqual(SpecKeyTable.sweepableNames, [
            "jitter_apply", "split_overlap", "test_normalize", "test_storage", "order", "norm", "groups", "momentum",
            "momentum_convention", "track_running_stats", "ghost_batch_size", "shared_bn", "devices", "device_bn",
            "frozen_bn_epochs", "dropout", "dropout_convention", "dropout_in_eval", "drop_path", "epochs", "steps", "min_steps",
            "budget_factor",
            "batch_size", "validation", "validation_batch_size", "weight_average", "ema_decay", "weight_average_buffers",
            "finetune_epochs", "finetune_shift", "freeze", "lr", "eval_batch_size", "recalibrate_samples", "recalibrate_batch_size", "recalibrate_estimator",
            "recalibrate_data", "adapt_prior", "mc_samples", "forgot_eval_batches", "forgot_eval_shift", "variant",
        ])
        XCTAssertEqual(SpecKeyTable.quickNames.filter { !SpecKeyTable.sweepableNames.contains($0) }, [
            "train_split", "test_split", "normalize", "drop_last", "eps", "epoch_eval", "lr_scaling", "base_batch_size", "seeds",
            "forgot_eval", "class_blocked_eval", "mixed_dropout_eval", "train_mode_train_split", "lossy_reload", "metric_bug",
        ])
    }
}
