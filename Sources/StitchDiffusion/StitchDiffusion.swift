/// StitchDiffusion: noise schedules, denoisers and ODE/SDE samplers, and the SynthER pipeline.
///
/// See README.md's feature table for what works today.
public enum StitchDiffusionModule {}
