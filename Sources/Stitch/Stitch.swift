// The umbrella module: `import Stitch` brings in every public Stitch module.
@_exported import StitchAlgorithms
@_exported import StitchData
@_exported import StitchDiffusion
@_exported import StitchEnvironments
@_exported import StitchNN
@_exported import StitchTraining
@_exported import StitchTensor
