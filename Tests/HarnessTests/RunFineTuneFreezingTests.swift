import Datasets
@testable import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `finetune_epochs`, `finetune_shift`, `freeze` (case 4 of #14): after a first phase, only the classifier
/// trains on shifted data, and the freeze methods differ in what the frozen BatchNorm does with the
/// fine-tuning batches. A small cnn (conv 8 -> BatchNorm -> ReLU -> maxpool -> linear) on 96 training
/// images in batches of 8 (12 steps per epoch), 2 epochs of each phase, the shapes shifted by 0.5; 60 test
/// images (its accuracies, 57% to 68% here, tell the models apart).
final class RunFineTuneFreezingTests: XCTestCase {
    private static let data: PreparedData = {
        var trainRNG = RandomGenerator(seed: 21), testRNG = RandomGenerator(seed: 22)
        return PreparedData(train: Shapes.generate(count: 96, size: 12, rng: &trainRNG),
                            test: Shapes.generate(count: 60, size: 12, rng: &testRNG))
    }()

    private func cell(_ method: FreezeMethod?, epochs: Int = 2, shift: Float = 0.5) -> Cell {
        Cell(model: ModelRecipe(architecture: .cnn(channels: [8], kernel: 3)),
             optimizer: .sgd(SGDSettings(learningRate: 0.05)), training: TrainingPlan(epochs: 2, batchSize: 8),
             fineTune: method.map { FineTunePlan(epochs: epochs, shift: shift, frozen: FrozenNormalization($0)) },
             evaluation: EvaluationPlan(), seed: 3)
    }

    private func train(_ method: FreezeMethod, epochs: Int = 2) throws -> TrainedModelCache.Entry {
        try CellRunner.trainModel(cell: cell(method, epochs: epochs), data: Self.data, onEpoch: nil)
    }

    /// The values of the classifier's parameters, and of every other parameter.
    private func parameters(_ model: Sequential) -> (classifier: [[Float]], features: [[Float]]) {
        let head = Set(model.classifier!.parameters.map(ObjectIdentifier.init))
        let all = model.parameters
        return (all.filter { head.contains(ObjectIdentifier($0)) }.map(\.value.array),
                all.filter { !head.contains(ObjectIdentifier($0)) }.map(\.value.array))
    }

    /// The whole state (parameters and buffers) by state-dict key.
    private func state(_ model: Sequential) -> [String: SafeTensor] {
        Dictionary(uniqueKeysWithValues: model.stateDictEntries.map { ($0.key, $0.value) })
    }

    func testEachMethodsPhasePerEpoch() {
        func phases(_ method: FreezeMethod) -> [NormalizationPhase] {
            (1...3).map { FrozenNormalization(method).phase(epoch: $0) }
        }
        XCTAssertEqual(phases(.requiresGrad), [.train, .train, .train])
        XCTAssertEqual(phases(.eval), [.eval, .eval, .eval])
        XCTAssertEqual(phases(.kerasTF1), [.trainWithoutUpdate, .trainWithoutUpdate, .trainWithoutUpdate])
        XCTAssertEqual(phases(.evalThenTrain), [.eval, .train, .train], "eval until the first validation's model.train()")
        XCTAssertEqual(FrozenNormalization(.keras), FrozenNormalization(.eval), "TF 2's trainable=False trains as FrozenBN")
        let plan = FineTunePlan(epochs: 3, frozen: .evalThenTrain(evalEpochs: 1))
            .trainingPlan(after: TrainingPlan(epochs: 8, batchSize: 5, order: .classBlocked, dropLast: false, frozenEpochs: 2,
                                              steps: 100, schedule: LRSchedule(shape: .cosine(minimumFactor: 0)),
                                              validation: .eval))
        XCTAssertEqual(plan, TrainingPlan(epochs: 3, batchSize: 5, order: .classBlocked, dropLast: false,
                                          schedule: LRSchedule(shape: .cosine(minimumFactor: 0)),
                                          frozenFeatures: .evalThenTrain(evalEpochs: 1)))
        XCTAssertEqual((1...3).map { plan.mode(epoch: $0, of: 3) },
                       [Mode(normalization: .eval, dropout: .train), .train, .train], "dropout stays on")
    }

    /// The frozen layers' parameters never change, the classifier's do; the running statistics move only
    /// where the method trains BatchNorm in train mode (requires-grad: all 24 steps; eval-then-train: the 12 of
    /// epoch 2); keras trains exactly as eval; keras-tf1 trains the classifier exactly as requires-grad does
    /// (both normalize with batch statistics, which a BatchNorm forward computes without reading its running
    /// statistics) but leaves the statistics where the first phase left them.
    func testTheMethodsDifferAsDescribed() throws {
        var entries: [FreezeMethod: TrainedModelCache.Entry] = [:]
        for method in FreezeMethod.allCases { entries[method] = try train(method) }
        let first = try CellRunner.trainModel(cell: cell(nil), data: Self.data, onEpoch: nil).model
        let initialStatistics = runningStatistics(first)
        XCTAssertEqual(initialStatistics[0].batchesTracked, 24, "the first phase: 2 epochs of 12 steps")
        for (method, entry) in entries {
            let pretrained = try XCTUnwrap(entry.pretrained)
            XCTAssertEqual(state(pretrained), state(first), "\(method): the first phase as without fine-tuning")
            XCTAssertEqual(parameters(entry.model).features, parameters(first).features, "\(method): frozen parameters")
            XCTAssertNotEqual(parameters(entry.model).classifier, parameters(first).classifier, "\(method): classifier")
            XCTAssertEqual(entry.outcome.steps, 48, method.rawValue)
        }
        func statistics(_ method: FreezeMethod) -> [RunningStatistics] { runningStatistics(entries[method]!.model) }
        XCTAssertEqual(statistics(.eval), initialStatistics)
        XCTAssertEqual(statistics(.keras), initialStatistics)
        XCTAssertEqual(statistics(.kerasTF1), initialStatistics)
        XCTAssertNotEqual(statistics(.requiresGrad)[0].mean, initialStatistics[0].mean)
        XCTAssertEqual(statistics(.requiresGrad)[0].batchesTracked, 48)
        XCTAssertNotEqual(statistics(.evalThenTrain)[0].mean, initialStatistics[0].mean)
        XCTAssertEqual(statistics(.evalThenTrain)[0].batchesTracked, 36, "only epoch 2 updates")

        XCTAssertEqual(state(entries[.keras]!.model), state(entries[.eval]!.model))
        let classifier = { (method: FreezeMethod) in self.parameters(entries[method]!.model).classifier }
        XCTAssertEqual(classifier(.kerasTF1), classifier(.requiresGrad))
        XCTAssertNotEqual(classifier(.kerasTF1), classifier(.eval), "batch statistics, not the running ones")
        // eval-then-train's first epoch is eval's (a constant schedule: epoch 1 of 2 is the 1-epoch run).
        XCTAssertEqual(state(try train(.evalThenTrain, epochs: 1).model), state(try train(.eval, epochs: 1).model))
        XCTAssertNotEqual(classifier(.evalThenTrain), classifier(.eval))
    }

    /// What a cell measures: every column on the shifted splits, the three fine-tuning columns beside them;
    /// none of them without fine-tuning; keras's numbers are eval's.
    func testTheFineTuningColumns() throws {
        let plain = CellRunner.run(cell(nil), data: Self.data)
        for metric in [Metric.testAccBeforeFinetune, .testAccUnshifted, .testAccUnshiftedBeforeFinetune] {
            XCTAssertNil(plain[metric], "\(metric.name) without fine-tuning")
        }
        let measured = CellRunner.run(cell(.requiresGrad), data: Self.data)
        XCTAssertEqual(measured.status, .ok)
        let entry = try train(.requiresGrad)
        var shifted = Self.data.test
        shifted.images = shifted.images.map { $0 + 0.5 }
        func accuracy(_ model: Sequential, _ test: ImageDataset) throws -> Double {
            try Evaluation.accuracy(model: model, data: test, batchSize: CellRunner.measurementBatchSize, mode: .eval)
                .correct.percent
        }
        XCTAssertEqual(measured[.testAccEvalMode], try accuracy(entry.model, shifted))
        XCTAssertEqual(measured[.testAccBeforeFinetune], try accuracy(entry.pretrained!, shifted))
        XCTAssertEqual(measured[.testAccUnshifted], try accuracy(entry.model, Self.data.test))
        XCTAssertEqual(measured[.testAccUnshiftedBeforeFinetune], plain[.testAccEvalMode])
        XCTAssertNotEqual(measured[.testAccUnshifted], measured[.testAccEvalMode], "the shift changes the answers")
        XCTAssertEqual(CellRunner.run(cell(.keras), data: Self.data).values,
                       CellRunner.run(cell(.eval), data: Self.data).values)
    }

    /// In a sweep the first phase trains once for a cell without fine-tuning and three that fine-tune it, and
    /// keras takes eval's whole training: the epochs reported are the first phase's 2 once (of the 2 of the cell
    /// that trained it, which does not fine-tune), then 2 fine-tuning
    /// epochs (3 and 4) each for requires-grad and eval; the numbers are those of cells run alone.
    func testTheFirstPhaseIsSharedAndKerasTakesEvalsTraining() throws {
        let cells = [cell(nil), cell(.requiresGrad), cell(.eval), cell(.keras)]
        let cache = TrainedModelCache()
        for c in cells { cache.expect(TrainedModelCache.Key(c)) }
        var epochs: [Int] = [], counts: [Int] = []
        for c in cells {
            let measured = CellRunner.run(c, data: Self.data, cache: cache) { epochs.append($0); counts.append($1) }
            XCTAssertEqual(measured.values, CellRunner.run(c, data: Self.data).values)
        }
        XCTAssertEqual(epochs, [1, 2, 3, 4, 3, 4])
        XCTAssertEqual(counts, [2, 2, 4, 4, 4, 4], "each epoch of its cell's count: 2 without fine-tuning, 2 + 2 with it")
    }

    /// The settings as the spec reads them: the plan of each method, the keys left out of the canonical
    /// description at their defaults, and the refusals.
    func testTheSpecSettings() throws {
        let spec = try parseSpec("""
            finetune_epochs 3
            finetune_shift -1.5
            budget_factor 2
            sweep freeze requires-grad eval keras keras-tf1 eval-then-train
            """)
        XCTAssertEqual(spec.cells().map { Cell($0, index: 0).fineTune }, [
            FineTunePlan(epochs: 6, shift: -1.5, frozen: .train), FineTunePlan(epochs: 6, shift: -1.5, frozen: .eval),
            FineTunePlan(epochs: 6, shift: -1.5, frozen: .eval), FineTunePlan(epochs: 6, shift: -1.5, frozen: .trainWithoutUpdate),
            FineTunePlan(epochs: 6, shift: -1.5, frozen: .evalThenTrain(evalEpochs: 1)),
        ])
        XCTAssertTrue(spec.cells()[3].canonicalDescription.contains("finetune_epochs 3\nfinetune_shift -1.5\nfreeze keras-tf1\n"))
        XCTAssertNil(Cell(try parseSpec("epochs 2").cells()[0], index: 0).fineTune)
        for key in ["finetune_epochs", "finetune_shift", "freeze"] {
            XCTAssertFalse(ExperimentConfig().canonicalDescription.contains(key), key)
        }
        assertSpecError("freeze eval", "t.spec:1:8: error: 'freeze' is set but has no effect: no cell fine-tunes"
                        + " (finetune_epochs > 0) a model whose norm keeps running statistics (batch with"
                        + " track_running_stats on, batchrenorm, evonorm_b0, mabn or cbn)")
        assertSpecError("finetune_epochs 2\nnorm group\ngroups 4\nfreeze eval", "t.spec:4:8: error: 'freeze' is set"
                        + " but has no effect: no cell fine-tunes (finetune_epochs > 0) a model whose norm keeps"
                        + " running statistics (batch with track_running_stats on, batchrenorm, evonorm_b0, mabn or cbn)")
        assertSpecError("finetune_shift 1", "t.spec:1:16: error: 'finetune_shift' is set but has no effect:"
                        + " finetune_epochs is 0")
        assertSpecError("finetune_epochs 2\nfreeze trainable", "t.spec:2:8: error: freeze must be one of"
                        + " requires-grad, eval, keras, keras-tf1, eval-then-train; got 'trainable'")
        assertSpecError("finetune_epochs -1", "t.spec:1:17: error: finetune_epochs must be >= 0, got '-1'")
        assertSpecError("finetune_epochs 2\nvalidation eval", "t.spec:2:12: error: validation eval cannot be combined"
                        + " with finetune_epochs 2: the fine-tuning phase runs no validation pass (freeze"
                        + " eval-then-train stands for the model.train() that ends one)")
        assertSpecError("finetune_epochs 2\nweight_average ema", "t.spec:2:16: error: weight_average ema cannot be"
                        + " combined with finetune_epochs 2: the averaged model would follow the first phase only")
        assertSpecError("finetune_epochs 2\nepoch_eval on", "t.spec:2:12: error: epoch_eval on cannot be combined"
                        + " with finetune_epochs 2: its per-epoch table would cover the first phase only")
        assertSpecError("model resnet blocks=1 channels=4\nnorm mabn\nfinetune_epochs 2\nfreeze keras-tf1",
                        "t.spec:4:8: error: freeze keras-tf1 (batch statistics without an update) is not defined for"
                        + " norm mabn, whose train passes keep buffers of past batches' statistics")
    }
}
