using System.Text.Json;
using System.Text.Json.Serialization;
using Flannel.Actors.Cmd;
using Flannel.Host.Health;

namespace Flannel.Host.Ctl;

/// <summary>
/// The command socket's message and view types, their serializers generated at compile time. CtlWire.Json asks this
/// context first (same options: web defaults, every property, enums as strings): the NativeAOT form of flanneld cannot
/// build serializers by reflection for records with value-type members (the generic converters are not compiled ahead
/// of time). A view type added to a palette must be listed here (CtlJsonContextTests checks the palettes' views).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never, UseStringEnumConverter = true)]
[JsonSerializable(typeof(CtlWire.WireRequest))]
[JsonSerializable(typeof(CtlWire.WireResponse))]
[JsonSerializable(typeof(CmdAck))]
[JsonSerializable(typeof(ClusterView))]
[JsonSerializable(typeof(ClusterEventRow))]
[JsonSerializable(typeof(LeaseListView))]
[JsonSerializable(typeof(RoutesView))]
[JsonSerializable(typeof(PeersView))]
[JsonSerializable(typeof(ConfigView))]
[JsonSerializable(typeof(BackendView))]
[JsonSerializable(typeof(ActorHierarchyView))]
[JsonSerializable(typeof(LogLevelView))]
[JsonSerializable(typeof(StatusView))]
internal sealed partial class CtlJsonContext : JsonSerializerContext;
