import NN
import TensorCore
import XCTest

/// `GroupNorm` and `LayerNorm` against `nn.GroupNorm` / `nn.LayerNorm` (fixtures `groupnorm_g*`,
/// `layernorm_*`): one forward and backward with random affine parameters. Neither keeps running
/// state, so the mode must not matter: each case runs in train and in eval mode.
final class PyTorchGoldenNormalizationTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.groupNorm, .layerNorm]))
        super.tearDown()
    }

    private func assertBothModes(_ layer: Layer, _ check: GoldenChecker,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        check.fixture.copy("weight", into: layer.parameters[0].value)
        check.fixture.copy("bias", into: layer.parameters[1].value)
        for mode in [Mode.train, Mode.eval] {
            try check.assertForwardBackward(layer, mode: mode, .singleLayer, file: file, line: line)
        }
    }

    private func assertGroupNorm(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let layer = try GroupNorm(groups: try XCTUnwrap(fixture.config["num_groups"] as? Int),
                                  channels: try XCTUnwrap(fixture.config["num_channels"] as? Int),
                                  eps: Float(try XCTUnwrap(fixture.config["eps"] as? Double)))
        try assertBothModes(layer, GoldenChecker(family: .groupNorm, fixture: fixture), file: file, line: line)
    }

    func testGroupNormTwoGroups() throws { try assertGroupNorm("groupnorm_g2") }
    /// 4 groups of 4 channels: InstanceNorm with a per-channel affine.
    func testGroupNormOneChannelPerGroup() throws { try assertGroupNorm("groupnorm_g4") }

    private func assertLayerNorm(_ name: String, sampleShape: Shape, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        let normalized = try XCTUnwrap(fixture.config["normalized_shape"] as? [Int])
        XCTAssertEqual(normalized, Array(sampleShape.dims.dropFirst()), "\(name): normalized shape", file: file, line: line)
        let layer = LayerNorm(sampleShape: sampleShape, eps: Float(try XCTUnwrap(fixture.config["eps"] as? Double)))
        try assertBothModes(layer, GoldenChecker(family: .layerNorm, fixture: fixture), file: file, line: line)
    }

    /// LayerNorm((2, 3, 3)) on (3, 2, 3, 3): the elementwise affine has 18 weights.
    func testLayerNormOverChannelsAndPixels() throws {
        try assertLayerNorm("layernorm_chw", sampleShape: Shape(1, 2, 3, 3))
    }

    func testLayerNormOverFeatures() throws { try assertLayerNorm("layernorm_c", sampleShape: Shape(1, 6)) }
}
