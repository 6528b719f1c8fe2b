import XCTest
@testable import Charts
@testable import Datasets
@testable import Experiment
@testable import Reports
@testable import SpecFormat

/// Every kind of refusal, with its exact location and message.
final class SpecErrorTests: XCTestCase {
    func testUnknownKeySuggestsTheNearest() {
        assertSpecError("epochs 3\nbatchsize 4\n", "t.spec:2:1: error: unknown key 'batchsize'; did you mean 'batch_size'?")
        assertSpecError("  momentun 0.1", "t.spec:1:3: error: unknown key 'momentun'; did you mean 'momentum'?")
        assertSpecError("swep lr 0.1 0.2", "t.spec:1:1: error: unknown key 'swep'; did you mean 'sweep'?")
        assertSpecError("sweep batchsize 1 2", "t.spec:1:7: error: unknown key 'batchsize'; did you mean 'batch_size'?")
        assertSpecError("zzzzzz 1", "t.spec:1:1: error: unknown key 'zzzzzz'")
        assertSpecError("epochs=3", "t.spec:1:1: error: unknown key 'epochs=3'; write 'epochs 3' (a key and its value"
                        + " are separated by a space)")
    }

    func testDuplicateKeysCiteTheFirstLine() {
        assertSpecError("epochs 3\n# comment\n  epochs 4", "t.spec:3:3: error: duplicate key 'epochs' (first set on line 1)")
        assertSpecError("batch_size 4\nsweep batch_size 8 16",
                        "t.spec:2:7: error: 'batch_size' is fixed on line 1; a key may be fixed or swept, not both")
        assertSpecError("sweep batch_size 8 16\nbatch_size 4",
                        "t.spec:2:1: error: 'batch_size' is swept on line 1; a key may be fixed or swept, not both")
        assertSpecError("sweep dropout 0 0.5\nsweep dropout 0.1",
                        "t.spec:2:7: error: duplicate sweep of 'dropout' (first on line 1)")
        assertSpecError("seeds 0\nseeds 1", "t.spec:2:1: error: duplicate key 'seeds' (first set on line 1)")
        assertSpecError("sweep lr 0.1 0.2\nquick_sweep lr 0.1\nquick_sweep lr 0.2",
                        "t.spec:3:13: error: duplicate quick_sweep of 'lr' (first on line 2)")
    }

    func testBadNumbers() {
        assertSpecError("lr 1e", "t.spec:1:4: error: lr must be a number > 0, got '1e'")
        assertSpecError("lr 0x10", "t.spec:1:4: error: lr must be a number > 0, got '0x10'")
        assertSpecError("dropout nan", "t.spec:1:9: error: dropout must be a number in [0, 1), got 'nan'")
        assertSpecError("lr inf", "t.spec:1:4: error: lr must be a number > 0, got 'inf'")
        assertSpecError("lr 1e39", "t.spec:1:4: error: lr is too large for a 32-bit float, got '1e39'")
        assertSpecError("epochs 2.5", "t.spec:1:8: error: epochs must be an integer >= 1, got '2.5'")
        assertSpecError("epochs 99999999999999999999", "t.spec:1:8: error: epochs is too large, got '99999999999999999999'")
        assertSpecError("eps 1.", "t.spec:1:5: error: eps must be a number > 0, got '1.'")
    }

    func testValuesOutOfRange() {
        assertSpecError("lr -0.1", "t.spec:1:4: error: lr must be > 0, got '-0.1'")
        assertSpecError("dropout 1.0", "t.spec:1:9: error: dropout must be in [0, 1), got '1.0'")
        // 0.99999999 rounds to Float 1: the range holds for the value the model gets.
        assertSpecError("dropout 0.99999999", "t.spec:1:9: error: dropout must be in [0, 1), got '0.99999999'")
        assertSpecError("batch_size 0", "t.spec:1:12: error: batch_size must be >= 1, got '0'")
        assertSpecError("momentum 0", "t.spec:1:10: error: momentum must be in (0, 1], got '0'")
        assertSpecError("split_overlap 1.5", "t.spec:1:15: error: split_overlap must be in [0, 1], got '1.5'")
        assertSpecError("dataset shapes size=4", "t.spec:1:21: error: shapes size must be >= 12, got '4'")
        assertSpecError("ghost_batch_size 1", "t.spec:1:18: error: ghost_batch_size must be >= 2, got '1'")
        assertSpecError("ghost_batch_size on",
                        "t.spec:1:18: error: ghost_batch_size must be 'off' or an integer >= 2, got 'on'")
        assertSpecError("test_normalize 0.5,0", "t.spec:1:20: error: test_normalize std must be > 0, got '0'")
        assertSpecError("jitter gain=2:1", "t.spec:1:13: error: jitter gain must have LO <= HI, got '2:1'")
        assertSpecError("jitter offset=-1:x", "t.spec:1:18: error: jitter offset must be a number, got 'x'")
        assertSpecError("jitter gain=0:1", "t.spec:1:13: error: jitter gain must be > 0, got '0'")
        assertSpecError("model cnn channels=16,0", "t.spec:1:23: error: cnn channels must be >= 1, got '0'")
        assertSpecError("model cnn channels=16,,32", "t.spec:1:23: error: cnn channels must be an integer >= 1, got ''")
        assertSpecError("model cnn channels=8 kernel=2",
                        "t.spec:1:29: error: cnn kernel must be odd (padding K/2 keeps the image size only for odd K), got '2'")
        assertSpecError("seeds 0 -1", "t.spec:1:9: error: seed must be >= 0, got '-1'")
        assertSpecError("optimizer adam betas=0.9", "t.spec:1:22: error: adam betas must look like B1,B2 (e.g. 0.9,0.999), got '0.9'")
    }

    func testEnumsListTheirChoices() {
        assertSpecError("norm batc", "t.spec:1:6: error: norm must be one of batch, group, layer, batchrenorm, mabn, cbn, frn, evonorm_s0, evonorm_b0, none, fixup;"
                        + " got 'batc'; did you mean 'batch'?")
        assertSpecError("order random", "t.spec:1:7: error: order must be one of shuffled, sorted, class-blocked; got 'random'")
        assertSpecError("drop_last yes", "t.spec:1:11: error: drop_last must be one of on, off; got 'yes'")
        assertSpecError("momentum cumulativ", "t.spec:1:10: error: momentum must be a number in (0, 1] or 'cumulative',"
                        + " got 'cumulativ'; did you mean 'cumulative'?")
        assertSpecError("dataset mnist", "t.spec:1:9: error: dataset must be one of shapes, csv, idx, cifar10; got 'mnist'")
    }

    func testValueCounts() {
        assertSpecError("epochs", "t.spec:1:1: error: 'epochs' needs a value")
        assertSpecError("epochs 3 4", "t.spec:1:10: error: epochs takes one value; unexpected '4'"
                        + " (to try several, write 'sweep epochs 3 4')")
        assertSpecError("train_split 3 4", "t.spec:1:15: error: train_split takes one value; unexpected '4'")
        assertSpecError("renorm", "t.spec:1:1: error: 'renorm' needs a value: rmax=... dmax=... warmup_steps=... ramp_steps=...")
        assertSpecError("seeds", "t.spec:1:1: error: 'seeds' needs at least one value")
    }

    func testSweeps() {
        assertSpecError("sweep batch_size", "t.spec:1:7: error: the sweep of 'batch_size' has no values")
        assertSpecError("sweep", "t.spec:1:1: error: 'sweep' needs a key and values: sweep KEY V1 V2 ...")
        assertSpecError("sweep seeds 1 2", "t.spec:1:7: error: 'seeds' cannot be swept: the seeds are their own,"
                        + " innermost axis; write 'seeds 0 1 2'")
        do {
            _ = try parseSpec("sweep dataset shapes csv")
            XCTFail("accepted a sweep of dataset")
        } catch let error as SpecError {
            XCTAssertTrue(error.description.hasPrefix("t.spec:1:7: error: 'dataset' cannot be swept; the sweepable keys"
                                                      + " are jitter_apply, split_overlap,"), error.description)
        } catch { XCTFail("\(error)") }
        assertSpecError("sweep dropout 0.1 0.2 0.10",
                        "t.spec:1:23: error: duplicate value '0.10' in the sweep of dropout (same as '0.1' at column 15)")
        assertSpecError("sweep batch_size 4 x", "t.spec:1:20: error: batch_size must be an integer >= 1, got 'x'")
    }

    func testGridSizeLimit() {
        let values = (1...101).map(String.init).joined(separator: " ")
        assertSpecError("sweep batch_size \(values)\nsweep eval_batch_size \(values)",
                        "t.spec:2:7: error: the grid would have more than 10000 cells (101 x 101 x 1); split the spec")
    }

    func testBytesAndLines() {
        assertSpecError(bytes: Array("epochs 3\nlr 0.".utf8) + [0xFF, 0x31],
                        "t.spec:2:6: error: invalid UTF-8 byte 0xFF (spec files are UTF-8 text)")
        // A truncated two-byte sequence (0xC3 then an ASCII byte) is refused at its first byte.
        assertSpecError(bytes: Array("# caf".utf8) + [0xC3, 0x41], "t.spec:1:6: error: invalid UTF-8 byte 0xC3 (spec files are UTF-8 text)")
        // An overlong encoding of '/' and a UTF-16 surrogate are not UTF-8.
        assertSpecError(bytes: [0xC0, 0xAF], "t.spec:1:1: error: invalid UTF-8 byte 0xC0 (spec files are UTF-8 text)")
        assertSpecError(bytes: Array("x ".utf8) + [0xED, 0xA0, 0x80], "t.spec:1:3: error: invalid UTF-8 byte 0xED (spec files are UTF-8 text)")
        // After a valid two-byte 'é', a stray continuation byte; a code point above U+10FFFF.
        assertSpecError(bytes: Array("# é".utf8) + [0x80], "t.spec:1:5: error: invalid UTF-8 byte 0x80 (spec files are UTF-8 text)")
        assertSpecError(bytes: [0xF4, 0x90, 0x80, 0x80], "t.spec:1:1: error: invalid UTF-8 byte 0xF4 (spec files are UTF-8 text)")
        assertSpecError("# " + String(repeating: "x", count: 5000),
                        "t.spec:1:4097: error: line is 5002 bytes long; the limit is 4096")
        assertSpecError("epochs\u{0}3", "t.spec:1:7: error: control character 0x00 is not allowed")
        assertSpecError("", "t.spec:1:1: error: empty file: a spec needs at least one setting")
        assertSpecError("# only a comment\n\n   \t\n", "t.spec:1:1: error: no settings: the file holds only comments and blank lines")
    }

    func testKeywordArguments() {
        assertSpecError("optimizer sgd lr=0.1 momentun=0.9",
                        "t.spec:1:22: error: unknown keyword 'momentun' for optimizer sgd; did you mean 'momentum'?")
        assertSpecError("optimizer sgd foo=1", "t.spec:1:15: error: unknown keyword 'foo' for optimizer sgd"
                        + " (allowed: lr, momentum, dampening, weight_decay, nesterov)")
        assertSpecError("dataset csv scale=2", "t.spec:1:9: error: dataset csv needs path=...")
        assertSpecError("model cnn kernel=3", "t.spec:1:7: error: model cnn needs channels=...")
        assertSpecError("dataset idx images=a", "t.spec:1:9: error: dataset idx needs labels=...")
        assertSpecError("optimizer sgd lr=0.1 lr=0.2",
                        "t.spec:1:22: error: keyword 'lr' given twice for optimizer sgd (first at column 15)")
        assertSpecError("optimizer sgd 0.1", "t.spec:1:15: error: optimizer sgd: expected name=value, got '0.1'")
        assertSpecError("optimizer sgd lr=", "t.spec:1:18: error: sgd lr must be a number > 0, got ''")
        assertSpecError("optimizer sgd momentum=0 nesterov=on",
                        "t.spec:1:35: error: sgd nesterov=on needs momentum > 0 and dampening 0 (PyTorch's rule),"
                        + " got momentum=0 dampening=0")
        assertSpecError("dataset cifar10 path=a,,b", "t.spec:1:24: error: path must not be empty")
    }

    func testRulesBetweenSettingsPointAtTheCause() {
        // groups left at its default: the error points at the norm that made it matter.
        assertSpecError("norm group\nmodel cnn channels=16,12",
                        "t.spec:1:6: error: groups 8 (the default) does not divide channel count 12 of the model;"
                        + " GroupNorm needs groups to divide every channel count")
        assertSpecError("norm group\ngroups 5\nmodel mlp widths=10,12",
                        "t.spec:2:8: error: groups 5 does not divide width 12 of the model;"
                        + " GroupNorm needs groups to divide every width")
        // Swept: the cell with norm group fails, at its value.
        assertSpecError("sweep norm batch group\nmodel cnn channels=12",
                        "t.spec:1:18: error: groups 8 (the default) does not divide channel count 12 of the model;"
                        + " GroupNorm needs groups to divide every channel count")
        assertSpecError("epochs 2\nfrozen_bn_epochs 3", "t.spec:2:18: error: frozen_bn_epochs 3 exceeds epochs 2")
        assertSpecError("sweep epochs 1 4\nfrozen_bn_epochs 2", "t.spec:2:18: error: frozen_bn_epochs 2 exceeds epochs 1")
        assertSpecError("model cnn channels=4,4,4,4,4",
                        "t.spec:1:7: error: model cnn has 5 blocks, each halving the image (maxpool 2), but inputs 16"
                        + " pixels wide allow at most 4")
        assertSpecError("dataset csv path=a.csv", "t.spec:1:9: error: model cnn needs images: give dataset csv a shape=CxHxW")
        // With drop_last on, a batch larger than the training split leaves every epoch empty.
        let emptyEpochs = " with drop_last on, an epoch would have no batch and the model would not train;"
            + " lower batch_size, raise train_split or set drop_last off"
        assertSpecError("train_split 20\nsweep batch_size 8 32",
                        "t.spec:2:20: error: batch_size 32 exceeds train_split 20:" + emptyEpochs)
        assertSpecError("train_split 20\nquick train_split=6\nbatch_size 8",
                        "t.spec:3:12: error: batch_size 8 exceeds train_split 6:" + emptyEpochs)
        XCTAssertNoThrow(try parseSpec("train_split 20\nbatch_size 32\ndrop_last off"), "one short batch an epoch")
        assertSpecError("optimizer sgd lr=0.1\nlr 0.05",
                        "t.spec:2:1: error: 'lr' replaces the lr= of 'optimizer' on line 1; give the learning rate in one place")
    }

    func testSettingsWithoutEffectAreRefused() {
        assertSpecError("jitter_apply train", "t.spec:1:14: error: 'jitter_apply' is set but has no effect: jitter is none")
        assertSpecError("norm layer\nmomentum 0.2",
                        "t.spec:2:10: error: 'momentum' is set but has no effect: no cell uses a norm whose running statistics follow it (batch, batchrenorm, cbn or evonorm_b0)")
        assertSpecError("groups 4", "t.spec:1:8: error: 'groups' is set but has no effect: no cell uses norm group or evonorm_s0")
        assertSpecError("sweep forgot_eval_batches 1 all",
                        "t.spec:1:27: error: 'forgot_eval_batches' is set but has no effect: forgot_eval is off")
        assertSpecError("forgot_eval on\nforgot_eval_batches 0",
                        "t.spec:2:21: error: forgot_eval_batches must be >= 1, got '0'")
        assertSpecError("forgot_eval_shift 0.5",
                        "t.spec:1:19: error: 'forgot_eval_shift' is set but has no effect: forgot_eval is off")
        assertSpecError("renorm rmax=2", "t.spec:1:8: error: 'renorm' is set but has no effect: no cell uses norm batchrenorm")
        assertSpecError("base_batch_size 32", "t.spec:1:17: error: 'base_batch_size' is set but has no effect: lr_scaling is none")
        // Relevant in one cell is enough.
        XCTAssertNoThrow(try parseSpec("sweep norm layer batch\nmomentum 0.2"))
        XCTAssertNoThrow(try parseSpec("jitter gain=0.5:2\njitter_apply train"))
        // A quick grid may leave out the cells where a fixed key acts.
        XCTAssertNoThrow(try parseSpec("sweep norm batch group\ngroups 4\nquick_sweep norm batch"))
    }

    func testQuickIsValidatedLikeSettings() {
        assertSpecError("sweep epochs 1 2\nquick epochs=1",
                        "t.spec:2:7: error: quick overrides 'epochs', which is swept on line 1; write 'quick_sweep epochs ...'"
                        + " to replace its values")
        assertSpecError("epochs 2\nquick_sweep dropout 0",
                        "t.spec:2:13: error: quick_sweep of 'dropout', which has no sweep line; write 'quick dropout=VALUE'"
                        + " to override a fixed value")
        assertSpecError("quick epochs=0", "t.spec:1:14: error: epochs must be >= 1, got '0'")
        assertSpecError("quick epochs=1 epochs=2", "t.spec:1:16: error: keyword 'epochs' given twice for quick (first at column 7)")
        assertSpecError("quick epoch=1", "t.spec:1:7: error: unknown keyword 'epoch' for quick; did you mean 'epochs'?")
        assertSpecError("quick", "t.spec:1:1: error: 'quick' needs overrides: quick KEY=VALUE ...")
        assertSpecError("quick seeds=0,0", "t.spec:1:15: error: duplicate seed '0' (same as '0' at column 13)")
        assertSpecError("quick jitter_apply=test", "t.spec:1:20: error: 'jitter_apply' is set but has no effect: jitter is none")
        assertSpecError("quick epochs=2\nfrozen_bn_epochs 3", "t.spec:2:18: error: frozen_bn_epochs 3 exceeds epochs 2")
    }

    /// `threads` is one value for the whole spec: the run divides its cores by it once, so neither
    /// `quick`, a `variant` nor a `sweep` may give it per cell.
    func testThreadsIsOneValuePerSpec() {
        let why = "it is one value for the whole spec, because the run divides its cores by it once (--jobs"
            + " defaults to the cores divided by threads), so a value per cell could not act"
        assertSpecError("threads 2\nquick epochs=1 threads=1",
                        "t.spec:2:16: error: 'threads' cannot be set by quick: \(why); write 'threads 1' on its own line")
        assertSpecError("variant two threads=2\nsweep variant two",
                        "t.spec:1:13: error: 'threads' cannot be set by a variant: \(why); write 'threads 2' on its own line")
        assertSpecError("sweep threads 1 2", "t.spec:1:7: error: 'threads' cannot be swept: \(why)")
        assertSpecError("sweep epochs 1 2\nquick_sweep threads 1", "t.spec:2:13: error: 'threads' cannot be swept: \(why)")
        XCTAssertEqual(try parseSpec("threads 2\nquick epochs=1").cells(quick: true).map(\.threads), [2])
    }

    func testLoadReportsAnUnreadableFile() {
        XCTAssertThrowsError(try Spec.load(path: "/nonexistent/x.spec")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/x.spec:1:1: error: cannot read the spec file")
        }
    }
}
