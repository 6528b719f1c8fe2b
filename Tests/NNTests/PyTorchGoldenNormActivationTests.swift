import NN
import TensorCore
import XCTest

/// The normalization-activation layers against their transcriptions of timm's modules in
/// `scripts/pytorch_golden.py` (huggingface/pytorch-image-models at aa4b5850): `frn_*` is
/// `FilterResponseNormTlu2d`, `evonorm_s0_*` `EvoNorm2dS0`, `evonorm_b0_*` `EvoNorm2dB0`. FRN and
/// EvoNorm-S0 keep no running state, so each of their cases runs in train and in eval mode and both
/// must give the recorded values; EvoNorm-B0 runs three train steps (its running variance compared
/// after each), then one eval step that must leave it unchanged.
final class PyTorchGoldenNormActivationTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.filterResponseNorm, .evoNormS0, .evoNormB0]))
        super.tearDown()
    }

    private func assertFilterResponseNorm(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .filterResponseNorm, fixture: fixture)
        let layer = FilterResponseNorm(channels: try XCTUnwrap(fixture.config["num_features"] as? Int),
                                       eps: Float(try XCTUnwrap(fixture.config["eps"] as? Double)))
        XCTAssertEqual(layer.parameters.map(\.name), ["weight", "bias", "tau"], "timm's state_dict names", file: file, line: line)
        for parameter in layer.parameters { fixture.copy(parameter.name, into: parameter.value) }
        // The fixture clamps some outputs at tau: the TLU's both branches are compared.
        XCTAssertGreaterThan(fixture.scalar("below_tau"), 0, file: file, line: line)
        // One layer, one pass: y and dx to .singleLayer; dtau is a sum over the clamped values of a
        // plane, like dbias, so .parameterGradient holds it as it holds the other parameter gradients.
        for mode in [Mode.train, Mode.eval] {
            try check.assertForwardBackward(layer, mode: mode, .singleLayer, file: file, line: line)
        }
    }

    func testFilterResponseNormOn3x3Maps() throws { try assertFilterResponseNorm("frn_n3_c4_3x3") }
    /// Non-square maps and eps 1e-3: eps is read from the setting, not fixed at timm's default.
    func testFilterResponseNormOn4x5MapsWithLargerEps() throws { try assertFilterResponseNorm("frn_n2_c3_4x5_eps0p001") }

    private func assertEvoNormS0(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .evoNormS0, fixture: fixture)
        let layer = try EvoNormS0(channels: try XCTUnwrap(fixture.config["num_features"] as? Int),
                                  groups: try XCTUnwrap(fixture.config["groups"] as? Int),
                                  eps: Float(try XCTUnwrap(fixture.config["eps"] as? Double)))
        XCTAssertEqual(layer.parameters.map(\.name), ["weight", "bias", "v"], "timm's state_dict names", file: file, line: line)
        for parameter in layer.parameters { fixture.copy(parameter.name, into: parameter.value) }
        // y and dx to .singleLayer (the sigmoid is one more Float function of x, ~1 ulp); dv, like
        // dweight, is a sum over a channel's values: .parameterGradient.
        for mode in [Mode.train, Mode.eval] {
            try check.assertForwardBackward(layer, mode: mode, .singleLayer, file: file, line: line)
        }
    }

    /// 4 groups of 2 channels.
    func testEvoNormS0FourGroups() throws { try assertEvoNormS0("evonorm_s0_n2_c8_g4_3x3") }
    /// One group: the std over all of a sample's values, as LayerNorm's.
    func testEvoNormS0OneGroup() throws { try assertEvoNormS0("evonorm_s0_n3_c3_g1_2x3") }

    private func assertEvoNormB0(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let check = GoldenChecker(family: .evoNormB0, fixture: fixture)
        let layer = EvoNormB0(channels: try XCTUnwrap(fixture.config["num_features"] as? Int),
                              eps: Float(try XCTUnwrap(fixture.config["eps"] as? Double)),
                              momentum: Float(try XCTUnwrap(fixture.config["momentum"] as? Double)))
        XCTAssertEqual(layer.parameters.map(\.name), ["weight", "bias", "v"], "timm's state_dict names", file: file, line: line)
        for parameter in layer.parameters { fixture.copy("initial." + parameter.name, into: parameter.value) }
        fixture.copy("initial.running_var", into: layer.runningVar)
        XCTAssertGreaterThan(fixture.scalar("right_wins"), 0, file: file, line: line)
        XCTAssertGreaterThan(fixture.scalar("left_wins"), 0, file: file, line: line)
        for step in 1...(try XCTUnwrap(fixture.config["steps"] as? Int)) {
            let prefix = "step\(step)."
            try check.assertForwardBackward(layer, prefix: prefix, mode: .train, .singleLayer, file: file, line: line)
            // A Float update of a Double-computed variance: as tight as y.
            check.assertClose(layer.runningVar.array, prefix + "running_var", .singleLayer, file: file, line: line)
        }
        let before = layer.runningVar.array
        try check.assertForwardBackward(layer, prefix: "eval.", mode: .eval, .singleLayer, file: file, line: line)
        XCTAssertEqual(layer.runningVar.array, before, "\(name): eval mode changed the running variance", file: file, line: line)
    }

    /// timm's defaults: momentum 0.1, eps 1e-3.
    func testEvoNormB0TimmDefaults() throws { try assertEvoNormB0("evonorm_b0_n4_c3_3x3") }
    /// Batch 2 of 2x2 maps (m = 8 values per channel), momentum 0.3, eps 1e-5.
    func testEvoNormB0SmallBatch() throws { try assertEvoNormB0("evonorm_b0_n2_c4_2x2_momentum0p3_eps0p00001") }

    /// timm's `apply_act=False` forms (`*_no_act_*`): two train steps, then one eval step, the state
    /// after each compared; FRN keeps its normalization without tau, EvoNorm-S0 and -B0 are the affine
    /// `x * weight + bias` (B0's running_var, 2.0, never updated). One layer, one pass: `.singleLayer`.
    private func assertWithoutActivation(_ name: String, _ family: GoldenFamily, _ layer: NormalizationActivation,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        XCTAssertEqual(fixture.config["apply_act"] as? Bool, false, file: file, line: line)
        let check = GoldenChecker(family: family, fixture: fixture)
        XCTAssertFalse(layer.appliesActivation, file: file, line: line)
        XCTAssertEqual(layer.parameters.map(\.name), ["weight", "bias"], "timm's state_dict names", file: file, line: line)
        for parameter in layer.parameters { fixture.copy("initial." + parameter.name, into: parameter.value) }
        let runningVar = (layer as? EvoNormB0)?.runningVar
        if let runningVar { fixture.copy("initial.running_var", into: runningVar) }
        for step in 1...(try XCTUnwrap(fixture.config["steps"] as? Int)) {
            let prefix = "step\(step)."
            try check.assertForwardBackward(layer, prefix: prefix, mode: .train, .singleLayer, file: file, line: line)
            if let runningVar {
                XCTAssertEqual(runningVar.array, fixture.tensor(prefix + "state.running_var").values, file: file, line: line)
            }
        }
        try check.assertForwardBackward(layer, prefix: "eval.", mode: .eval, .singleLayer, file: file, line: line)
    }

    func testFilterResponseNormWithoutActivation() throws {
        try assertWithoutActivation("frn_no_act_n2_c3_3x4", .filterResponseNorm,
                                    FilterResponseNorm(channels: 3, eps: 1e-5, applyActivation: false))
    }

    func testEvoNormS0WithoutActivation() throws {
        try assertWithoutActivation("evonorm_s0_no_act_n2_c4_g2_3x3", .evoNormS0,
                                    try EvoNormS0(channels: 4, groups: 2, applyActivation: false))
    }

    func testEvoNormB0WithoutActivation() throws {
        try assertWithoutActivation("evonorm_b0_no_act_n3_c2_2x3", .evoNormB0,
                                    EvoNormB0(channels: 2, eps: 1e-3, momentum: 0.1, applyActivation: false))
    }
}
