import Foundation
import StitchData
import StitchTraining
import Testing

@testable import StitchCLI

/// `stitch finetune` on a WSRL run applies WSRL's recipe as defaults (no offline data, a 5000-step policy
/// warm-up capped by the run's length, UTD 4 inside each update on a 4 × 256 batch), lets given options win, and
/// refuses a batch its UTD does not divide.
@Suite(.serialized) struct FinetuneRecipeTests {
  static func settings(_ folder: String) throws -> (utd: Int, batch: Int, updatesPerStep: Int, warmup: Int, data: String) {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! [String: Any]
    let configuration = json["configuration"] as! [String: Any], options = json["options"] as! [String: Any]
    let online = ((options["phases"] as! [[String: Any]])[0]["online"]) as! [String: Any]
    let warmup = (online["warmup"] as? [String: Any])?["policy"] as? [String: Any]
    let data = (online["data"] as? [String: Any])?.keys.first ?? "?"
    return (configuration["utd"] as! Int, options["batch_size"] as! Int, online["updates_per_step"] as! Int, warmup?["steps"] as? Int ?? 0, data)
  }

  @Test func wsrlsRecipeIsTheDefaultAndGivenOptionsWin() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-finetune-wsrl-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let dataPath = root.appendingPathComponent("pendulum.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 3), to: dataPath)
    let run = root.appendingPathComponent("wsrl").path
    #expect(commandError(["train", "--algo", "wsrl", "--dataset", dataPath, "--env", "Pendulum-v1", "--steps", "3", "--eval-every", "3",
                          "--eval-episodes", "1", "--set", "hidden_sizes=[8,8]", "--set", "critics=3", "--set", "sampled_actions=2", "--out", run]) == nil)
    let out = root.appendingPathComponent("ft").path
    func finetune(_ extra: [String]) -> String? {
      commandError(["finetune", run, "--online-steps", "6", "--eval-every", "6", "--eval-episodes", "1", "--out", out, "--overwrite"] + extra)
    }
    #expect(finetune([]) == nil)
    let recipe = try Self.settings(out + "/seed_0")
    #expect(recipe.utd == 4 && recipe.batch == 1024 && recipe.updatesPerStep == 1 && recipe.warmup == 6 && recipe.data == "replay")
    #expect(finetune(["--utd", "2", "--warmup", "3", "--replay", "append"]) == nil)
    let given = try Self.settings(out + "/seed_0")
    #expect(given.utd == 2 && given.batch == 512 && given.updatesPerStep == 1 && given.warmup == 3 && given.data == "append")
    #expect(finetune(["--utd", "2", "--batch-size", "7"])?.contains("not a multiple of 2") == true)
    #expect(finetune(["--utd", "2", "--set", "utd=3"])?.contains("give one") == true)
  }
}
