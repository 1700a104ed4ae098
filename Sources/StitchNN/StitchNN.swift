/// StitchNN: layers, distributions and optimizers on `StitchTensor`.
///
/// The module grows with the tensor-core issue; see README.md's feature table for what works today.
public enum StitchNNModule {}
