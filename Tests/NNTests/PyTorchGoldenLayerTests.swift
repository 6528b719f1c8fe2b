import NN
import TensorCore
import XCTest

/// The stateless layers and the loss against PyTorch: `Conv2d` (fixtures `conv2d_*`), `MaxPool2d`,
/// `AvgPool2d`, `GlobalAvgPool2d` (`adaptive_avgpool2d_1`), `Linear` (`linear_5to4`) and
/// `SoftmaxCrossEntropy` (`cross_entropy_mean`); one forward and backward each.
final class PyTorchGoldenLayerTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.conv2d, .pooling, .linear, .crossEntropy]))
        super.tearDown()
    }

    private func assertConv2d(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load(name)
        func setting(_ key: String) throws -> Int { try XCTUnwrap(fixture.config[key] as? Int, "\(name): \(key)") }
        let hasBias = try XCTUnwrap(fixture.config["bias"] as? Bool)
        var rng = RandomGenerator(seed: 0)  // the initial weights are overwritten below
        let conv = Conv2d(try setting("in_channels"), try setting("out_channels"), kernelSize: try setting("kernel_size"),
                          stride: try setting("stride"), padding: try setting("padding"), bias: hasBias, rng: &rng)
        fixture.copy("weight", into: conv.weight.value)
        if let bias = conv.bias { fixture.copy("bias", into: bias.value) }
        XCTAssertEqual(conv.parameters.count, hasBias ? 2 : 1, name, file: file, line: line)
        let check = GoldenChecker(family: .conv2d, fixture: fixture)
        try check.assertForwardBackward(conv, mode: .train, .singleLayer, file: file, line: line)
    }

    func testConv2dStride1Padding1() throws { try assertConv2d("conv2d_3to4_k3_s1_p1") }
    func testConv2dStride2Padding1() throws { try assertConv2d("conv2d_3to4_k3_s2_p1") }
    func testConv2dKernel5Stride2Padding2() throws { try assertConv2d("conv2d_2to3_k5_s2_p2") }
    func testConv2dNoPaddingNoBias() throws { try assertConv2d("conv2d_1to2_k3_s1_p0_nobias") }

    /// Pooling inputs have no ties, so the max and its gradient route are unique; averages
    /// of 4 or 36 values of the form k/8 are summed in float32 and divided.
    private func assertPooling(_ name: String, _ layer: Layer, file: StaticString = #filePath, line: UInt = #line) throws {
        let check = GoldenChecker(family: .pooling, fixture: try Fixture.load(name))
        try check.assertForwardBackward(layer, mode: .train, .singleLayer, file: file, line: line)
    }

    func testMaxPool2dKernel2() throws { try assertPooling("maxpool2d_k2", MaxPool2d(kernelSize: 2)) }
    /// Kernel 3, stride 2: windows overlap, so one input can receive the gradient of two outputs.
    func testMaxPool2dOverlappingWindows() throws { try assertPooling("maxpool2d_k3_s2", MaxPool2d(kernelSize: 3, stride: 2)) }
    func testAvgPool2dKernel2() throws { try assertPooling("avgpool2d_k2", AvgPool2d(kernelSize: 2)) }
    /// `AdaptiveAvgPool2d(1)` gives (N, C, 1, 1); `GlobalAvgPool2d` also flattens to (N, C): same values.
    func testGlobalAvgPool2dIsAdaptiveAvgPoolThenFlatten() throws {
        let fixture = try Fixture.load("adaptive_avgpool2d_1")
        XCTAssertEqual(fixture.tensor("y").shape, [2, 3, 1, 1])
        try assertPooling("adaptive_avgpool2d_1", GlobalAvgPool2d())
    }

    func testLinear() throws {
        let fixture = try Fixture.load("linear_5to4")
        var rng = RandomGenerator(seed: 0)  // the initial weights are overwritten below
        let linear = Linear(try XCTUnwrap(fixture.config["in_features"] as? Int),
                            try XCTUnwrap(fixture.config["out_features"] as? Int), rng: &rng)
        fixture.copy("weight", into: linear.weight.value)
        fixture.copy("bias", into: try XCTUnwrap(linear.bias).value)
        try GoldenChecker(family: .linear, fixture: fixture).assertForwardBackward(linear, mode: .train, .singleLayer)
    }

    /// Mean cross-entropy over 6 rows and its gradient `(softmax - onehot) / N`.
    func testSoftmaxCrossEntropyMean() throws {
        let fixture = try Fixture.load("cross_entropy_mean")
        let check = GoldenChecker(family: .crossEntropy, fixture: fixture)
        let labels = fixture.labels("labels")
        let loss = SoftmaxCrossEntropy()
        let result = labels.withUnsafeBufferPointer { loss.forward(logits: fixture.swiftTensor("logits"), labels: $0) }
        check.assertClose([result.loss], [Float(fixture.scalar("loss"))], rtol: GoldenTolerance.singleLayer.rtol,
                          atol: GoldenTolerance.singleLayer.atol, "loss")
        check.assertClose(loss.gradient.array, "dlogits", .singleLayer)
    }
}
