@testable import Experiment
import NN
import TensorCore
import XCTest

/// `lossy_reload`: a checkpoint of `parameters()` only loses exactly the BatchNorm buffers, and the
/// strict load's missing-keys error is reported.
final class RunLossyReloadTests: XCTestCase {
    func testTheReloadKeepsTheParametersAndLosesExactlyTheBuffers() throws {
        var rng = RandomGenerator(seed: 1)
        let trained = Sequential([Flatten(), Linear(4, 2, rng: &rng),
                                  handBatchNorm(mean: [0.5, -1], variance: [2, 3]), ReLU(), Linear(2, 2, rng: &rng)])
        trained.parameters[2].value[0] = 1.5  // a BatchNorm weight that is not the initial 1
        var freshRNG = RandomGenerator(seed: 2)
        let fresh = Sequential([Flatten(), Linear(4, 2, rng: &freshRNG), BatchNorm(2), ReLU(), Linear(2, 2, rng: &freshRNG)])
        var notes: [String] = []
        let reloaded = try CellRunner.lossyReload(trained, into: fresh, notes: &notes)
        XCTAssertTrue(reloaded === fresh)
        XCTAssertEqual(reloaded.parameters.map(\.value.array), trained.parameters.map(\.value.array), "every parameter")
        let statistics = reloaded.runningStatisticsLayers[0].snapshotRunningStatistics()
        XCTAssertEqual(statistics.mean, [0, 0], "running_mean at its initial value")
        XCTAssertEqual(statistics.variance, [1, 1], "running_var at its initial value")
        XCTAssertEqual(notes, ["lossy reload: load_state_dict(strict=True) refuses the checkpoint: Missing key(s) in"
                               + " state_dict: \"2.running_mean\", \"2.running_var\"."])
    }
}
