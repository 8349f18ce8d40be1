using Flannel.Net.Files;
using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.DistributedData.Durable;
using Akka.Serialization;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Leases.Durable;

/// <summary>
/// Akka.DistributedData's durable store (akka.cluster.distributed-data.durable.store-actor-class) for the lease table:
/// every durable key in one file (<see cref="LeaseStoreFormat"/>), replaced atomically (<see cref="AtomicFile"/>) on
/// every change, so leases outlive a restart of every agent and a node that is down then keeps its subnet.
/// <list type="bullet">
/// <item>LoadAll: the file's entries as one LoadData, then LoadAllCompleted. A missing file is an empty store; a
/// corrupt, truncated or foreign file is logged (1102, naming the file and the problem), kept aside as
/// <c>&lt;file&gt;.corrupt</c> and the node starts from the cluster's state: it never stops the replicator.</item>
/// <item>Store: written before the reply, so a WriteMajority that succeeded is on a majority's disks. A failed write
/// replies the failure (the update is not acknowledged as durable) and is logged once per episode (1103, 1105).</item>
/// </list>
/// Envelopes are serialized by Akka's own serializer for DurableDataEnvelope (ReplicatorMessageSerializer, as the
/// LightningDB store does), never by a fallback. A lock file (<c>&lt;file&gt;.lock</c>) tells two agents that share
/// one path (1104); an actor system of the same process that is still stopping holds it for a moment, so it is waited for.
/// </summary>
public sealed class LeaseFileStore : ReceiveActor
{
    /// <summary>The section under akka.cluster.distributed-data.durable that holds the file's path.</summary>
    public const string PathKey = "file.path";

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(5);

    private readonly string? _path;
    private readonly Microsoft.Extensions.Logging.ILogger _events;
    private readonly Akka.Event.ILoggingAdapter _log = Akka.Event.Logging.GetLogger(Context);
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly SerializerWithStringManifest _serializer;
    private Dictionary<string, StoredEntry> _written = new(StringComparer.Ordinal);
    private FileStream? _lock;
    private int _failures;

    /// <param name="config">akka.cluster.distributed-data.durable (the replicator passes its durable section).</param>
    public LeaseFileStore(Config config)
    {
        _events = Context.System.FlannelLogger("Flannel.Leases.Store");
        var path = config.GetString(PathKey, "");
        _path = string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);
        _serialization = Context.System.Serialization;
        // The replicator's own serializer (bound to IReplicatorMessage by Akka.DistributedData): the envelope's data
        // then carries each Lease through LeaseSerializer, exactly as on the wire.
        _serializer = _serialization.FindSerializerForType(typeof(DurableDataEnvelope)) as SerializerWithStringManifest
                      ?? throw new ConfigurationException(
                          "DurableDataEnvelope is not bound to Akka.DistributedData's ReplicatorMessageSerializer; the lease store writes nothing else");
        Receive<LoadAll>(_ => Load());
    }

    protected override void PostRestart(Exception reason)
    {
        base.PostRestart(reason);
        // As LightningDB's store: loading happens once; after a restart keep serving Store with what the file holds.
        if (_path is not null && File.Exists(_path))
            try { _written = LeaseStoreFormat.Decode(File.ReadAllBytes(_path)).ToDictionary(e => e.Key, StringComparer.Ordinal); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LeaseStoreFormatException) { }
        Become(Active);
    }

    protected override void PostStop()
    {
        _lock?.Dispose();
        base.PostStop();
    }

    private void Load()
    {
        var started = Stopwatch.StartNew();
        if (_path is null)
        {
            _events.LeaseStoreNotConfigured();
            Finish(ImmutableDictionary<string, DurableDataEnvelope>.Empty);
            return;
        }
        TakeLock(_path);
        if (!File.Exists(_path))
        {
            _events.LeaseStoreEmpty(_path);
            Finish(ImmutableDictionary<string, DurableDataEnvelope>.Empty);
            return;
        }
        byte[] bytes;
        IReadOnlyList<StoredEntry> entries;
        ImmutableDictionary<string, DurableDataEnvelope> data;
        try
        {
            bytes = File.ReadAllBytes(_path);
            entries = LeaseStoreFormat.Decode(bytes);
            data = entries.ToImmutableDictionary(e => e.Key, Deserialize, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LeaseStoreFormatException)
        {
            Unusable(_path, e.Message);
            Finish(ImmutableDictionary<string, DurableDataEnvelope>.Empty);
            return;
        }
        _written = entries.ToDictionary(e => e.Key, StringComparer.Ordinal);
        _events.LeaseStoreLoaded(_path, data.Count, bytes.LongLength, started.ElapsedMilliseconds);
        Finish(data);
    }

    private DurableDataEnvelope Deserialize(StoredEntry e)
    {
        if (e.SerializerId != _serializer.Identifier)
            throw new LeaseStoreFormatException(
                $"key \"{e.Key}\" was written by serializer {e.SerializerId}, not Akka.DistributedData's ({_serializer.Identifier})");
        try
        {
            return _serializer.FromBinary(e.Data, e.Manifest) as DurableDataEnvelope
                   ?? throw new LeaseStoreFormatException($"key \"{e.Key}\" does not hold a DurableDataEnvelope (manifest \"{e.Manifest}\")");
        }
        catch (Exception x) when (x is not LeaseStoreFormatException)
        {
            // The checksum matched, so these bytes are what an Akka serializer wrote, but not one this build can read.
            throw new LeaseStoreFormatException($"key \"{e.Key}\" cannot be deserialized: {x.GetType().Name}: {x.Message}");
        }
    }

    /// <summary>Logs the problem, keeps the file for inspection, and lets the cluster's state win.</summary>
    private void Unusable(string path, string problem)
    {
        var aside = path + ".corrupt";
        try { File.Move(path, aside, overwrite: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { aside = $"(not moved: {e.Message})"; }
        _events.LeaseStoreUnusable(path, problem, aside);
    }

    private void Finish(ImmutableDictionary<string, DurableDataEnvelope> data)
    {
        if (data.Count > 0) Sender.Tell(new LoadData(data));
        Sender.Tell(LoadAllCompleted.Instance);
        Become(Active);
    }

    private void Active()
    {
        Receive<Store>(Store);
    }

    private void Store(Store store)
    {
        if (_path is null)
        {
            store.Reply?.ReplyTo.Tell(store.Reply.SuccessMessage);
            return;
        }
        try
        {
            var entry = new StoredEntry(store.Key, _serializer.Identifier, _serializer.Manifest(store.Data), _serializer.ToBinary(store.Data));
            // The replicator stores on every merge, also when nothing changed: only a change costs a write and an fsync.
            if (!(_written.TryGetValue(store.Key, out var old) && old.Manifest == entry.Manifest && old.Data.AsSpan().SequenceEqual(entry.Data)))
            {
                var next = new Dictionary<string, StoredEntry>(_written, StringComparer.Ordinal) { [store.Key] = entry };
                AtomicFile.Write(_path, LeaseStoreFormat.Encode(next.Values.OrderBy(e => e.Key, StringComparer.Ordinal).ToList()));
                _written = next;
            }
            if (_failures > 0) _events.LeaseStoreWriteRecovered(_path, _failures);
            _failures = 0;
            store.Reply?.ReplyTo.Tell(store.Reply.SuccessMessage);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LeaseStoreFormatException
                                      or System.Runtime.Serialization.SerializationException)
        {
            if (_failures++ == 0) _events.LeaseStoreWriteFailed(_path, $"{e.GetType().Name}: {e.Message}");
            store.Reply?.ReplyTo.Tell(store.Reply.FailureMessage);
        }
    }

    /// <summary>.NET reports a held flock (FileShare.None) as a sharing violation.</summary>
    private static bool IsLocked(IOException e) => e.HResult == unchecked((int)0x80070020);

    private void TakeLock(string path)
    {
        var lockFile = path + ".lock";
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var dir = Path.GetDirectoryName(lockFile)!;
                if (!Directory.Exists(dir))
                    Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                // FileShare.None is an exclusive flock on Linux: held until this actor stops (or the process dies).
                _lock = new FileStream(lockFile, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                return;
            }
            catch (IOException e) when (IsLocked(e) && waited.Elapsed < LockWait)
            {
                Thread.Sleep(100);
            }
            catch (IOException e) when (IsLocked(e))
            {
                _events.LeaseStoreLocked(path, lockFile, Math.Round(waited.Elapsed.TotalSeconds, 1));
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Whatever keeps the lock file from being made also fails the first write, which says so (1103).
                _log.Warning("lease store lock file {0} cannot be opened: {1}", lockFile, e.Message);
                return;
            }
        }
    }
}
