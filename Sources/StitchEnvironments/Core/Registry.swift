/// Makes environments by Gymnasium id, wrapped in their time limit.
public enum EnvironmentRegistry {
  /// A registered task: its id, a short description and a factory (without the time limit).
  public struct Entry: Sendable {
    public var id: String
    public var summary: String
    public var make: @Sendable () throws -> any Environment
  }

  /// Every task Stitch knows, in the order `stitch env list` prints them.
  public static var entries: [Entry] {
    var list: [Entry] = [
      Entry(id: "Pendulum-v1", summary: "classic control: swing up a pendulum (3-dim obs, 1-dim action)", make: { Pendulum() }),
      Entry(id: "MountainCarContinuous-v0", summary: "classic control: drive up a hill (2-dim obs, 1-dim action)", make: { MountainCarContinuous() }),
    ]
    list += extraEntries
    return list
  }

  /// Further tasks registered by other files of this module (MuJoCo tasks).
  nonisolated(unsafe) static var extraEntries: [Entry] = []

  public static var ids: [String] { entries.map(\.id) }

  /// A fresh environment for `id`, wrapped in `TimeLimit` when the task has an episode limit.
  /// - Throws: `EnvironmentError.unknownEnvironment` listing the known ids.
  public static func make(_ id: String) throws -> any Environment {
    guard let entry = entries.first(where: { $0.id == id }) ?? entries.first(where: { $0.id.lowercased() == id.lowercased() }) else {
      throw EnvironmentError.unknownEnvironment(id, known: ids)
    }
    let env = try entry.make()
    if let limit = env.maxEpisodeSteps { return wrap(env, limit: limit) }
    return env
  }

  static func wrap<E: Environment>(_ env: E, limit: Int) -> any Environment { TimeLimit(env, limit: limit) }
}
