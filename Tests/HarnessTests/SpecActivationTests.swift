import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// `activation relu | leaky_relu [slope=S]`: parsing, refusals, the canonical text (absent at the
/// default, so every cell written before the key existed keeps its description and hash), and the
/// layers the recipe builds.
final class SpecActivationTests: XCTestCase {
    func testValues() throws {
        XCTAssertEqual(try parseSpec("epochs 2").cells()[0].activation, .relu)
        XCTAssertEqual(try parseSpec("activation relu").cells()[0].activation, .relu)
        XCTAssertEqual(try parseSpec("activation leaky_relu").cells()[0].activation, .leakyReLU(slope: 0.01))
        XCTAssertEqual(try parseSpec("activation leaky_relu slope=0.2").cells()[0].activation, .leakyReLU(slope: 0.2))
        XCTAssertEqual(try parseSpec("activation leaky_relu slope=0").cells()[0].activation, .leakyReLU(slope: 0))
    }

    func testRefusals() {
        assertSpecError("activation tanh", "t.spec:1:12: error: activation must be one of relu, leaky_relu; got 'tanh'")
        assertSpecError("activation leaky_relu slope=1",
                        "t.spec:1:29: error: leaky_relu slope must be in [0, 1), got '1'")
        assertSpecError("activation leaky_relu slope=-0.1",
                        "t.spec:1:29: error: leaky_relu slope must be in [0, 1), got '-0.1'")
        assertSpecError("activation leaky_relu slop=0.1",
                        "t.spec:1:23: error: unknown keyword 'slop' for activation leaky_relu; did you mean 'slope'?")
        assertSpecError("activation relu slope=0.1", "t.spec:1:17: error: activation takes one value; unexpected 'slope=0.1'")
    }

    /// At the default the key is not in the description (the hash of every existing spec is unchanged);
    /// `activation relu` written out is the same cell; any other value is listed after `model`.
    func testCanonicalDescriptionOmitsTheDefaultOnly() throws {
        let plain = try parseSpec("epochs 2").cells()[0]
        XCTAssertFalse(plain.canonicalDescription.contains("activation"))
        XCTAssertEqual(try parseSpec("epochs 2\nactivation relu").resolvedHash, try parseSpec("epochs 2").resolvedHash)
        let leaky = try parseSpec("epochs 2\nactivation leaky_relu").cells()[0]
        XCTAssertTrue(leaky.canonicalDescription.contains("model cnn channels=16,32 kernel=3\nactivation leaky_relu slope=0.01\nnorm batch\n"))
        XCTAssertNotEqual(try parseSpec("epochs 2\nactivation leaky_relu").resolvedHash, try parseSpec("epochs 2").resolvedHash)
        XCTAssertEqual(leaky.canonicalValue(of: "activation"), "leaky_relu slope=0.01")
        XCTAssertEqual(plain.canonicalValue(of: "activation"), "relu")
    }

    /// Its value may be two words: `sweep` refuses it, as every multi-word key.
    func testNotSweepable() {
        XCTAssertThrowsError(try parseSpec("sweep activation relu leaky_relu")) { error in
            XCTAssertTrue("\(error)".hasPrefix("t.spec:1:7: error: 'activation' cannot be swept; the sweepable keys are"), "\(error)")
        }
    }

    /// Every nonlinearity of the cnn and the mlp follows the setting; relu builds the same model,
    /// draw for draw, as before the setting existed (the initial weights do not depend on it).
    func testRecipeBuildsTheActivation() throws {
        for architecture in [ModelArchitecture.cnn(channels: [3, 4], kernel: 3), .mlp(widths: [5, 4])] {
            let relu = try ModelRecipe(architecture: architecture)
                .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 3))
            let leaky = try ModelRecipe(architecture: architecture, activation: .leakyReLU(slope: 0.2))
                .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 3))
            XCTAssertEqual(relu.layers.filter { $0 is ReLU }.count, 2)
            XCTAssertEqual(relu.layers.filter { $0 is LeakyReLU }.count, 0)
            let slopes = leaky.layers.compactMap { ($0 as? LeakyReLU)?.negativeSlope }
            XCTAssertEqual(slopes, [0.2, 0.2])
            XCTAssertEqual(leaky.layers.filter { $0 is ReLU }.count, 0)
            XCTAssertEqual(relu.parameters.map(\.value.array), leaky.parameters.map(\.value.array))
        }
    }
}
