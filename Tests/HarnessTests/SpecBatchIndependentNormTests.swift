import XCTest
@testable import Experiment
@testable import SpecFormat
import NN
import TensorCore

/// The normalization-activation norms in a spec and in the model they build: `frn` is refused with
/// an mlp (timm's layer is 2-d only), and replaces the cnn block's norm -> ReLU.
final class SpecBatchIndependentNormTests: XCTestCase {
    func testFeatureMapNormsAreRefusedWithAnMLP() {
        assertSpecError("model mlp widths=8\nnorm frn",
                        "t.spec:2:6: error: norm frn is defined for conv feature maps (N, C, H, W) only (timm's 2-d"
                        + " layer), not for model mlp's (N, C) features")
        // Swept: the error points at the value of the sweep.
        assertSpecError("model mlp widths=8\nsweep norm batch frn",
                        "t.spec:2:18: error: norm frn is defined for conv feature maps (N, C, H, W) only (timm's 2-d"
                        + " layer), not for model mlp's (N, C) features")
    }

    func testFilterResponseNormReplacesNormAndReLU() throws {
        let spec = try parseSpec("norm frn\neps 0.001\nmodel cnn channels=3,4\n")
        let config = try XCTUnwrap(spec.cells().first)
        XCTAssertEqual(config.norm, .frn)
        let model = try ModelRecipe(architecture: config.model, norm: config.norm, eps: config.eps)
            .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(model.layers.map { String(describing: type(of: $0)) },
                       ["Conv2d", "FilterResponseNorm", "MaxPool2d", "Conv2d", "FilterResponseNorm", "MaxPool2d",
                        "Flatten", "Linear"])
        XCTAssertEqual(model.layers.compactMap { ($0 as? FilterResponseNorm)?.eps }, [0.001, 0.001], "eps reaches the layer")
        XCTAssertEqual(model.stateDictEntries.map(\.key),
                       ["0.weight", "0.bias", "1.weight", "1.bias", "1.tau", "3.weight", "3.bias",
                        "4.weight", "4.bias", "4.tau", "7.weight", "7.bias"])
    }

    func testEvoNormS0UsesGroupsWhichMustDivideTheChannels() throws {
        assertSpecError("norm evonorm_s0\nmodel cnn channels=16,12",
                        "t.spec:1:6: error: groups 8 (the default) does not divide channel count 12 of the model;"
                        + " EvoNorm-S0 needs groups to divide every channel count")
        assertSpecError("model mlp widths=8\nnorm evonorm_s0",
                        "t.spec:2:6: error: norm evonorm_s0 is defined for conv feature maps (N, C, H, W) only (timm's 2-d"
                        + " layer), not for model mlp's (N, C) features")
        let spec = try parseSpec("norm evonorm_s0\ngroups 4\nmodel cnn channels=4,8\n")
        let config = try XCTUnwrap(spec.cells().first)
        let model = try ModelRecipe(architecture: config.model, norm: config.norm, groups: config.groups, eps: config.eps)
            .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(model.layers.compactMap { ($0 as? EvoNormS0).map { [$0.channels, $0.groups] } }, [[4, 4], [8, 4]])
        XCTAssertFalse(model.layers.contains { $0 is ReLU }, "EvoNorm-S0's sigmoid is the block's activation")
        XCTAssertEqual(model.stateDictEntries.map(\.key).filter { $0.hasPrefix("1.") }, ["1.weight", "1.bias", "1.v"])
    }
}

/// `norm evonorm_b0`: its running variance follows `momentum` (a number only) and `frozen_bn_epochs`;
/// BatchNorm's `track_running_stats` and `ghost_batch_size` do not apply to it.
final class SpecEvoNormB0Tests: XCTestCase {
    func testMomentumActsAndCumulativeIsRefused() throws {
        let spec = try parseSpec("norm evonorm_b0\nmomentum 0.3\neps 0.001\n")
        let config = try XCTUnwrap(spec.cells().first)
        let model = try ModelRecipe(architecture: config.model, norm: config.norm, momentum: config.momentum, eps: config.eps)
            .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(model.layers.compactMap { ($0 as? EvoNormB0).map { [$0.momentum, $0.eps] } }, [[0.3, 0.001], [0.3, 0.001]])
        XCTAssertFalse(model.layers.contains { $0 is ReLU }, "EvoNorm-B0's max is the block's activation")
        assertSpecError("norm evonorm_b0\nmomentum cumulative",
                        "t.spec:2:10: error: momentum cumulative (PyTorch's momentum=None) is not defined for norm"
                        + " evonorm_b0: timm's EvoNorm2dB0 takes a number in (0, 1]")
    }

    func testBatchNormOnlySettingsDoNotActOnIt() {
        assertSpecError("norm evonorm_b0\nghost_batch_size 4",
                        "t.spec:2:18: error: 'ghost_batch_size' is set but has no effect: no cell uses norm batch")
        assertSpecError("norm evonorm_b0\ntrack_running_stats off",
                        "t.spec:2:21: error: 'track_running_stats' is set but has no effect: no cell uses norm batch")
        assertSpecError("norm group\nmomentum 0.2",
                        "t.spec:2:10: error: 'momentum' is set but has no effect: no cell uses a norm whose"
                        + " running statistics follow it (batch, batchrenorm, cbn or evonorm_b0)")
    }
}
