@testable import BNLabCLI
import Foundation
import Charts
import Experiment
import NN
import SpecFormat
import TensorCore
import XCTest

/// The numbers `bnlab bench` derives: FLOP counts, medians, the CSV it writes.
final class BenchTests: XCTestCase {
    /// Flagship per sample, by hand: conv1 `2*16*9*256 = 73,728` (forward + weight gradient only:
    /// the first layer skips dInput) = 147,456; conv2 `2*32*144*64 = 589,824` x 3 = 1,769,472;
    /// linear `2*512*3 = 3,072` x 3 = 9,216; total 1,926,144. Exact integers in Double.
    func testFlagshipFlopsPerSample() throws {
        let model = try BenchModel.flagship.build(seed: 1)
        XCTAssertEqual(try TrainingFlops.perSample(model: model, channels: 1, height: 16, width: 16), 1_926_144)
    }

    /// MLP: linear 784->128 (first: x2), 128->128 (x3), 128->10 (x3):
    /// `2*(100,352*2 + 16,384*3 + 1,280*3) = 507,392`.
    func testMLPFlopsPerSample() throws {
        let model = try BenchModel.mlp.build(seed: 1)
        XCTAssertEqual(try TrainingFlops.perSample(model: model, channels: 1, height: 28, width: 28), 507_392)
    }

    /// ResNet-8 on 1x16x16, by hand (every conv inside the blocks counts, found by the observing forward):
    /// stem `2*16*9*256 = 73,728` x 2 (first layer) = 147,456; layer1.0 two convs 16->16 at 16x16,
    /// `2*16*144*256 = 1,179,648` each, x 3 = 7,077,888; layer2.0 conv1 16->32 s2 at 8x8 `2*32*144*64 =
    /// 589,824`, conv2 `2*32*288*64 = 1,179,648`, projection `2*32*16*64 = 65,536`, x 3 = 5,505,024;
    /// layer3.0 at 4x4 the same count, 5,505,024; fc `2*64*3 = 384` x 3 = 1,152; total 18,236,544.
    func testResNetFlopsPerSample() throws {
        let model = try BenchModel.resnet.build(seed: 1)
        XCTAssertEqual(try TrainingFlops.perSample(model: model, channels: 1, height: 16, width: 16), 18_236_544)
    }

    /// `bench --models resnet` trains ResNet-8 steps and reports a rate (no timing is judged).
    func testQuickRunOfTheResNet() throws {
        let path = NSTemporaryDirectory() + "bnlab-bench-resnet-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case .bench(let command)? = parsedCommand(["bench", "--quick", "--models", "resnet", "--threads", "1",
                                                         "--batch-sizes", "2", "--repetitions", "1", "--csv", path])
        else { return XCTFail() }
        var printed: [String] = []
        XCTAssertEqual(Bench.run(command) { printed.append($0) }, 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let row = CSV.parseLine(lines[1])
        XCTAssertEqual(Array(row.prefix(3)), ["resnet", "1", "2"])
        XCTAssertGreaterThan(Double(row[3]) ?? 0, 0)
        XCTAssertEqual(row[BenchResult.csvHeader.firstIndex(of: "flops_per_sample")!], "18236544")
        XCTAssertTrue(printed.contains { $0.hasPrefix("  resnet: ") }, "\(printed)")
    }

    /// The denormal probe measures what it says: with the modes kept, the momentum buffers hold denormals
    /// (0.9 b + 1e-40 settles at 1e-39) while it times; flushed, the gradient reads as 0 and the buffer becomes 0.
    func testDenormalProbeRunsOnDenormalBuffers() throws {
        let model = try BenchModel.flagship.build(seed: 1)
        let probe = try DenormalCost.measure(model: model, repetitions: 1, minimumSeconds: 0.001)
        XCTAssertTrue(probe.buffersWereDenormal)
        XCTAssertEqual(probe.parameters, 6_435)  // counted by hand below (testKeepDenormalsIsSaidAndRestored)
        XCTAssertGreaterThan(probe.keptNanoseconds, 0)
        XCTAssertGreaterThan(probe.flushedNanoseconds, 0)
        let optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
        for p in model.parameters { p.gradient.data.update(repeating: DenormalCost.gradient, count: p.gradient.count) }
        // The first step copies the gradient into the buffer (a copy, not arithmetic: the denormal stays);
        // the second computes 0.9 b + g on inputs read as 0.
        FloatingPointMode.withDenormalsFlushed { optimizer.step(); optimizer.step() }
        XCTAssertEqual(optimizer.momentumBuffer(0)?.allSatisfy { $0 == 0 }, true)
        FloatingPointMode.withDenormalsKept { for _ in 0..<50 { optimizer.step() } }
        XCTAssertEqual(optimizer.momentumBuffer(0)?.allSatisfy { $0 != 0 && !$0.isNormal }, true)
    }

    /// `--denormals keep` times the steps with the processor's default modes and says so; the thread's
    /// own modes (flushed, as bnlab always computes) are back afterwards. The flagship has 6,435 parameters:
    /// conv 16x1x3x3 + 16, BatchNorm 2x16, conv 32x16x3x3 + 32, BatchNorm 2x32, linear 3x512 + 3.
    func testKeepDenormalsIsSaidAndRestored() throws {
        guard case .bench(let command)? = parsedCommand(["bench", "--quick", "--models", "flagship", "--threads", "1",
                                                         "--batch-sizes", "2", "--repetitions", "1",
                                                         "--denormals", "keep"])
        else { return XCTFail() }
        XCTAssertTrue(command.keepDenormals)
        var printed: [String] = []
        FloatingPointMode.withDenormalsFlushed {
            XCTAssertEqual(Bench.run(command) { printed.append($0) }, 0)
            XCTAssertTrue(FloatingPointMode.denormalsFlushed)
        }
        XCTAssertTrue(printed.contains { $0.hasPrefix("denormals: kept in the timed steps") }, "\(printed)")
        XCTAssertTrue(printed.contains { $0.hasPrefix("denormals: SGD.step over flagship's 6435 parameters") },
                      "\(printed)")
    }

    func testMedian() {
        XCTAssertEqual(median([3, 1, 2]), 2)
        XCTAssertEqual(median([4, 1, 3, 2]), 2.5)
        XCTAssertTrue(median([]).isNaN)
    }

    /// A quick run of one model writes one CSV row per batch size, with the header, a positive
    /// rate where BatchNorm can train and PyTorch's error where it cannot (batch 1 of the MLP).
    func testQuickRunWritesCSV() throws {
        let path = NSTemporaryDirectory() + "bnlab-bench-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case .bench(let command)? = parsedCommand(["bench", "--quick", "--models", "mlp", "--threads", "1",
                                                         "--batch-sizes", "1,4", "--repetitions", "1",
                                                         "--csv", path])
        else { return XCTFail() }
        var printed: [String] = []
        XCTAssertEqual(Bench.run(command) { printed.append($0) }, 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(String(lines[0]), BenchResult.csvHeader.joined(separator: ","))
        let invalid = CSV.parseLine(lines[1]), valid = CSV.parseLine(lines[2])
        XCTAssertEqual(Array(invalid.prefix(3)), ["mlp", "1", "1"])
        XCTAssertEqual(invalid[3], "", "no rate for an invalid configuration")
        XCTAssertTrue(invalid.last!.hasPrefix("Expected more than 1 value per channel when training"))
        XCTAssertEqual(Array(valid.prefix(3)), ["mlp", "1", "4"])
        XCTAssertGreaterThan(Double(valid[3]) ?? 0, 0)
        XCTAssertEqual(valid[BenchResult.csvHeader.firstIndex(of: "flops_per_sample")!], "507392")
        XCTAssertTrue(printed.contains { $0.hasPrefix("sgemm peak, 1 thread: ") })
    }

    /// The peak after touching 64 MiB is at least 64 MiB above the resting size; after freeing
    /// it and a reset, the peak is back near the resting size (a reading per configuration).
    func testPeakMemoryFollowsTouchedPagesAndResets() throws {
        try XCTSkipUnless(PeakMemory.reset(), "this kernel does not allow resetting the peak (clear_refs)")
        let resting = PeakMemory.mebibytes
        XCTAssertTrue(resting.isFinite && resting > 0, "VmHWM missing: \(resting)")
        let count = 64 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 4096)
        for offset in stride(from: 0, to: count, by: 4096) { block.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        let touched = PeakMemory.mebibytes
        block.deallocate()
        XCTAssertGreaterThanOrEqual(touched, resting + 63, "64 MiB touched")
        PeakMemory.reset()
        XCTAssertLessThan(PeakMemory.mebibytes, touched - 32, "the reset forgets the freed 64 MiB")
    }
}
