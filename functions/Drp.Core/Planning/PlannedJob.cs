using Drp.Core.Datasets;

namespace Drp.Core.Planning;

/// <summary>One unit of science work: a task (or fused group) applied at a data id.</summary>
public sealed record PlannedQuantum(string Task, DataId DataId)
{
    /// <summary>The quantum's key in the ledger, within its run: <c>{task}|{data id}</c>, the data id in the fixed dimension order.</summary>
    public string Key => $"{Task}|{DataId}";

    /// <summary>The quantum of a ledger key made by <see cref="Key"/>; false for any other key.</summary>
    public static bool TryParseKey(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PlannedQuantum? quantum)
    {
        quantum = null;
        int bar = key.IndexOf('|');
        if (bar <= 0 || !DataId.TryParse(key[(bar + 1)..], out var id))
        {
            return false;
        }
        quantum = new PlannedQuantum(key[..bar], id);
        return true;
    }
}

/// <summary>
/// A cluster of quanta that runs as one job (e.g. a visit's detectors in step 1, a patch in step 3), in task order and
/// then data id order. It asks for the largest memory class of its tasks, heartbeats at their shortest interval and is
/// declared lost after their longest timeout. It runs in a container job when any of its tasks asks for one.
/// </summary>
public sealed record PlannedJob(
    string Step,
    string JobId,
    DataId Cluster,
    IReadOnlyList<PlannedQuantum> Quanta,
    MemoryClass Memory,
    TimeSpan HeartbeatInterval,
    TimeSpan HeartbeatTimeout,
    JobExecutor Executor = JobExecutor.Activity);

/// <summary>At most a step's <c>MaxJobsPerChunk</c> jobs: what one chunk sub-orchestration fans out.</summary>
public sealed record JobChunk(string Step, int Index, IReadOnlyList<PlannedJob> Jobs);
