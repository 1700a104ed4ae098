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
      Entry(id: "PointReach-v0", summary: "toy: a point moving toward a goal, the edge-of-reach analogue (2-dim obs, 2-dim action)", make: { PointReach() }),
    ]
    for version in [4, 5] {
      list += [
        Entry(id: "Hopper-v\(version)", summary: "MuJoCo: one-legged hopper (11-dim obs, 3-dim action)", make: { try MuJoCoLocomotion<Hopper>(version: version) }),
        Entry(id: "HalfCheetah-v\(version)", summary: "MuJoCo: planar cheetah, never terminates (17-dim obs, 6-dim action)", make: { try MuJoCoLocomotion<HalfCheetah>(version: version) }),
        Entry(id: "Walker2d-v\(version)", summary: "MuJoCo: planar biped (17-dim obs, 6-dim action)", make: { try MuJoCoLocomotion<Walker2d>(version: version) }),
        Entry(id: "Ant-v\(version)", summary: "MuJoCo: quadruped (\(Ant.observationSize(version: version))-dim obs, 8-dim action)", make: { try MuJoCoLocomotion<Ant>(version: version) }),
      ]
    }
    return list
  }

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
