import FuzzSupport
import Stitch

/// Fuzzes the safetensors readers: each input is written to a temporary `.safetensors` file, read as a checkpoint
/// (`Checkpoint.read`, what `train --resume` does first), restored into a small MLP and its Adam state (what every
/// algorithm's `restore` does with its networks), and loaded as a behaviour policy (`BehaviourPolicy.load`, what
/// `eval --policy FILE` and `dataset make --policy FILE` do).
let scratch = ScratchFile("policy.safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let data = bytes(input)
  scratch.write(data, size)
  if let checkpoint = try? Checkpoint.read(from: scratch.url) {
    var rng = RandomStream(seed: 0)
    var mlp = MLP(inputSize: 3, hiddenSizes: [4], outputSize: 2, rng: &rng)
    var adam = Adam()
    adam.prepare(for: mlp)
    try? checkpoint.restore(&mlp, from: "actor.")
    try? checkpoint.restore(optimizer: &adam, from: "actor_optimizer.")
  }
  if let policy = try? BehaviourPolicy.load(scratch.url) {
    precondition(policy.actor.inputSize > 0, "behaviour policy loaded with no input")
  }
  return 0
}
