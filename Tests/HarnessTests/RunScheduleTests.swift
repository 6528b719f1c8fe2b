import Datasets
import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// Training budgets and learning-rate schedules: the factor of each step against
/// torch.optim.lr_scheduler, the step budget, the rate each optimizer step really uses, and the
/// budget factor of the convergence check.
final class RunScheduleTests: XCTestCase {
    /// scripts/lr_schedule_golden.py (torch 2.15): lr 0.1, T = 12 steps, the lr in force at each step
    /// (min and warmup_start as the floats a spec holds: 0.1 and 1/3 rounded to float).
    /// 1e-12 relative: torch updates its schedulers recursively, bnlab evaluates the closed form.
    func testFactorsMatchTorchSchedulers() {
        let golden: [(LRSchedule, [Double])] = [
            (LRSchedule(shape: .cosine(minimumFactor: 0.1), warmupSteps: 4),
             [0.03333333432674408, 0.05000000074505807, 0.06666666716337205, 0.08333333358168603, 0.1,
              0.09657457896867933, 0.08681980517521688, 0.07222075450242271, 0.055000000074505805, 0.0377792456465889,
              0.02318019497379473, 0.013425421180332292]),
            (LRSchedule(shape: .step(every: 3, gamma: 0.5)),
             [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125]),
            (LRSchedule(shape: .constant, warmupSteps: 4),
             [0.03333333432674408, 0.05000000074505807, 0.06666666716337205, 0.08333333358168603] + Array(repeating: 0.1, count: 8)),
        ]
        for (schedule, rates) in golden {
            for (t, rate) in rates.enumerated() {
                XCTAssertEqual(0.1 * schedule.factor(step: t, totalSteps: 12), rate, accuracy: 1e-12 * rate, "\(schedule) t=\(t)")
            }
        }
        XCTAssertEqual(LRSchedule().factor(step: 7, totalSteps: 12), 1, "constant without warmup: the optimizer's rate")
    }

    /// Records the learning rate of every step it is asked to take.
    final class RecordingOptimizer: Optimizer {
        let parameters: [Parameter]
        let learningRate: Float
        var rates: [Float] = []
        init(parameters: [Parameter], learningRate: Float) { self.parameters = parameters; self.learningRate = learningRate }
        func step(learningRate lr: Float) { rates.append(lr) }
    }

    func train(_ plan: TrainingPlan, samples: Int = 10) throws -> (TrainingOutcome, [Float], epochs: Int) {
        var dataRNG = RandomGenerator(seed: 1)
        let data = Shapes.generate(count: samples, size: 12, rng: &dataRNG)
        let model = try ModelRecipe(architecture: .mlp(widths: [4]))
            .build(channels: 1, height: 12, width: 12, classes: 3, rng: RandomGenerator(seed: 2))
        let optimizer = RecordingOptimizer(parameters: model.parameters, learningRate: 0.1)
        var rng = RandomGenerator(seed: 3)
        var epochs = 0
        let outcome = try Trainer.train(model: model, optimizer: optimizer, data: data, plan: plan, rng: &rng) { _, _ in epochs += 1 }
        return (outcome, optimizer.rates, epochs)
    }

    /// 10 samples in batches of 4, drop_last: 2 steps an epoch. A budget of 7 steps runs 4 epochs, the last cut
    /// after one step; each step gets lr * factor(t) of a schedule spanning the 7 steps.
    func testStepBudgetAndScheduleReachTheOptimizer() throws {
        let schedule = LRSchedule(shape: .cosine(minimumFactor: 0), warmupSteps: 2)
        let (outcome, rates, epochs) = try train(TrainingPlan(epochs: 99, batchSize: 4, steps: 7, schedule: schedule))
        XCTAssertEqual(outcome.steps, 7)
        XCTAssertEqual(epochs, 4)
        XCTAssertEqual(rates, (0..<7).map { Float(0.1 * schedule.factor(step: $0, totalSteps: 7)) })
        XCTAssertEqual(rates[2], 0.1, "the first step after the warmup runs at the full rate")
    }

    /// An epoch budget with the default schedule: every step at exactly the optimizer's rate.
    func testEpochBudgetWithoutScheduleKeepsTheRate() throws {
        let (outcome, rates, epochs) = try train(TrainingPlan(epochs: 3, batchSize: 4))
        XCTAssertEqual(outcome.steps, 6)
        XCTAssertEqual(epochs, 3)
        XCTAssertEqual(rates, Array(repeating: 0.1, count: 6))
    }

    /// min_steps 7 at 2 steps an epoch: whole epochs until 7 steps are reached, 4 epochs and 8 steps (not cut),
    /// the schedule spanning the 8; where the epochs already give the steps, min_steps changes nothing.
    func testMinimumStepsAddWholeEpochs() throws {
        let schedule = LRSchedule(shape: .cosine(minimumFactor: 0))
        let (outcome, rates, epochs) = try train(TrainingPlan(epochs: 2, batchSize: 4, minSteps: 7, schedule: schedule))
        XCTAssertEqual(outcome.steps, 8)
        XCTAssertEqual(epochs, 4)
        XCTAssertEqual(rates, (0..<8).map { Float(Double(Float(0.1)) * schedule.factor(step: $0, totalSteps: 8)) },
                       "the rate as Trainer forms it: the optimizer's Float lr times the factor in Double")
        let (longer, _, longerEpochs) = try train(TrainingPlan(epochs: 5, batchSize: 4, minSteps: 7))
        XCTAssertEqual(longer.steps, 10)
        XCTAssertEqual(longerEpochs, 5)
        XCTAssertEqual(TrainingPlan(epochs: 2, batchSize: 4, minSteps: 7).epochCount(batchesPerEpoch: 2), 4)
        XCTAssertEqual(TrainingPlan(epochs: 2, batchSize: 4, minSteps: 6).epochCount(batchesPerEpoch: 2), 3)
    }

    /// min_steps with a step budget does not act: refused where it is written.
    func testMinimumStepsBesideAStepBudgetIsRefused() {
        XCTAssertThrowsError(try Spec.parse(text: "steps 100\nmin_steps 50\n", path: "t.spec")) { error in
            XCTAssertTrue("\(error)".contains("t.spec:2:"), "\(error)")
            XCTAssertTrue("\(error)".contains("steps is set"), "\(error)")
        }
    }

    /// budget_factor stretches the whole plan: epochs or steps, FrozenBN epochs, warmup and step decay.
    func testBudgetFactorStretchesThePlan() throws {
        let floor = try Spec.parse(text: "min_steps 40\nsweep budget_factor 1 2\n", path: "t.spec")
        XCTAssertEqual(floor.cells().map { Cell($0, index: 0).training.minSteps }, [40, 80])
        let spec = try Spec.parse(text: """
            steps 100
            frozen_bn_epochs 1
            lr_schedule step every=30 gamma=0.5 warmup=10
            sweep budget_factor 1 2
            """, path: "t.spec")
        let plans = spec.cells().map { Cell($0, index: 0).training }
        XCTAssertEqual(plans.map(\.steps), [100, 200])
        XCTAssertEqual(plans.map(\.frozenEpochs), [1, 2])
        XCTAssertEqual(plans.map(\.schedule.warmupSteps), [10, 20])
        XCTAssertEqual(plans.map(\.schedule.shape), [.step(every: 30, gamma: 0.5), .step(every: 60, gamma: 0.5)])
    }
}
