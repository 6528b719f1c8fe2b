/// The settings of a one-cell spec that the output tests share: a 4-channel CNN on 8 + 4 shapes
/// images, one epoch of batches of 2, evaluation and recalibration in batches of 4. A test puts its
/// comment line before them and its own settings after them.
enum OneCellSpec {
    static let settings = """
    dataset shapes size=12
    train_split 8
    test_split 4
    model cnn channels=4
    batch_size 2
    epochs 1
    eval_batch_size 4
    recalibrate_batch_size 4

    """
}
