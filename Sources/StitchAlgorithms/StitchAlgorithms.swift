/// StitchAlgorithms: offline, online, model-based and fine-tuning methods behind one `Algorithm` protocol.
///
/// See README.md's feature table for what works today.
public enum StitchAlgorithmsModule {}
