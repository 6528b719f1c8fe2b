import NN
import TensorCore
import XCTest

/// The residual network with each remedy (``ResidualNetwork``'s placement) against its PyTorch twin
/// in scripts/pytorch_golden.py (`resnet_<norm>_sgd_3steps`): blocks 1,1, channels 4,8, stem 4 on
/// (2, 1, 8, 8) (layer1 an identity block, layer2 a strided projection: every site kind), three SGD
/// steps in train mode from the fixture's weights with the gradients of every step compared, the
/// losses, the final parameters and buffers (every state-dict key, strict), then one eval forward.
/// - frn, evonorm_s0, evonorm_b0: timm's layers with the nonlinearity at the stem's and a block's
///   `bn1`, `apply_act=False` at `bn2` and `downsample.1`, ReLU after the addition;
/// - mabn: the authors' centred conv before every MABN2d (buffer 2, warmup 0: step 3 normalizes with
///   the average of two passes' E[x^2] and its backward averages the gradient statistic);
/// - cbn: each conv's weight handed to its CBatchNorm2d (buffer 2, burnin 0: steps 2 and 3 use the
///   compensated statistics of 1 and 2 past iterations).
final class PyTorchGoldenResNetRemedyTests: XCTestCase {
    override class func tearDown() {
        print(GoldenErrorRecord.shared.summary([.resnetFRN, .resnetEvoNormS0, .resnetEvoNormB0, .resnetMABN, .resnetCBN]))
        super.tearDown()
    }

    /// The norm of a site as the golden script's `remedy_twin` makes it (its REMEDY_SETTINGS).
    private func norm(_ kind: String) -> (ResidualNetwork.NormSite) throws -> Layer? {
        { site in
            let c = site.channels
            switch kind {
            case "frn": return FilterResponseNorm(channels: c, eps: 1e-5, applyActivation: site.applyActivation)
            case "evonorm_s0": return try EvoNormS0(channels: c, groups: 2, eps: 1e-5, applyActivation: site.applyActivation)
            case "evonorm_b0": return EvoNormB0(channels: c, eps: 1e-5, momentum: 0.1, applyActivation: site.applyActivation)
            case "mabn": return MovingAverageBatchNorm(c, eps: 1e-5, bufferSize: 2, warmupIterations: 0)
            case "cbn":
                return CrossIterationBatchNorm(c, eps: 1e-5, momentum: 0.1,
                                               settings: CrossIterationBatchNorm.Settings(bufferSize: 2, burnin: 0))
            default: preconditionFailure(kind)
            }
        }
    }

    private func model(_ kind: String) throws -> Sequential {
        var rng = RandomGenerator(seed: 0)  // the initial weights are overwritten from the fixture
        return try ResidualNetwork.make(channels: 1, height: 8, width: 8, classes: 3, blocks: [1, 1], widths: [4, 8],
                                        stem: 4, norm: norm(kind), activation: { ReLU() }, dropout: nil, rng: &rng)
    }

    /// Tolerance: the 3-step CNN's (``GoldenTolerance/threeStepCNN``): 7 convolutions and their norms
    /// at batch 2, rounding differences compounding through three updates as there.
    private func assertTraining(_ kind: String, _ family: GoldenFamily, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture.load("resnet_\(kind)_sgd_3steps")
        XCTAssertEqual(fixture.config["norm"] as? String, kind, file: file, line: line)
        try PyTorchGoldenResNetTests.assertTraining(try model(kind), GoldenChecker(family: family, fixture: fixture),
                                                    .threeStepCNN, file: file, line: line)
    }

    func testFilterResponseNorm() throws { try assertTraining("frn", .resnetFRN) }
    func testEvoNormS0() throws { try assertTraining("evonorm_s0", .resnetEvoNormS0) }
    func testEvoNormB0() throws { try assertTraining("evonorm_b0", .resnetEvoNormB0) }
    func testMovingAverageBatchNorm() throws { try assertTraining("mabn", .resnetMABN) }
    func testCrossIterationBatchNorm() throws { try assertTraining("cbn", .resnetCBN) }
}
