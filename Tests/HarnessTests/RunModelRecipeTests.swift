import Experiment
import SpecFormat
import NN
import TensorCore
import XCTest

/// `ModelRecipe.build`: only the first weight layer skips its input gradient (nothing
/// upstream of it needs one), fixed at construction.
final class RunModelRecipeTests: XCTestCase {
    private func weightLayerFlags(_ model: Sequential) -> [Bool] {
        model.layers.compactMap { ($0 as? Conv2d)?.computesInputGradient ?? ($0 as? Linear)?.computesInputGradient }
    }

    func testOnlyTheFirstWeightLayerSkipsItsInputGradient() throws {
        let cnn = try ModelRecipe(architecture: .cnn(channels: [3, 4], kernel: 3))
            .build(channels: 1, height: 8, width: 8, classes: 2, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(weightLayerFlags(cnn), [false, true, true])
        XCTAssertFalse(cnn.computesInputGradient)
        let mlp = try ModelRecipe(architecture: .mlp(widths: [4]))
            .build(channels: 1, height: 2, width: 2, classes: 2, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(weightLayerFlags(mlp), [false, true])
        let linearOnly = try ModelRecipe(architecture: .mlp(widths: []))
            .build(channels: 1, height: 2, width: 2, classes: 2, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(weightLayerFlags(linearOnly), [false])
        XCTAssertEqual(weightLayerFlags(cnn.clone()), [false, true, true], "a clone keeps the setting")
    }
}
