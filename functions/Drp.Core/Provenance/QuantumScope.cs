using System.Diagnostics;

namespace Drp.Core.Provenance;

/// <summary>What a quantum ran as: its step, task type (the pipeline tasks one unit runs) and config hash.</summary>
public sealed record QuantumProvenance(string Step, string TaskType, string ConfigHash);

/// <summary>
/// What one quantum used: CPU seconds (process CPU time over the quantum: approximate when quanta overlap in one
/// process, as an activity host's concurrent activities do; the job runner runs them one at a time), the process's
/// peak working set so far (process-wide, not per quantum), and the blob GETs and bytes the dataset store read for it.
/// Wall time is the ledger row's <c>ElapsedMs</c>.
/// </summary>
public sealed record QuantumUsage(double CpuSeconds, long PeakWorkingSetBytes, long Gets, long BytesRead);

/// <summary>
/// The quantum the current async flow runs (an <see cref="AsyncLocal{T}"/>): the dataset store counts its GETs and
/// bytes read into it (exact per quantum, even with concurrent quanta), and writes its provenance into each output's
/// blob metadata. A read-through cache fill shared by concurrent readers is counted for the reader that fetched it.
/// </summary>
public sealed class QuantumScope : IDisposable
{
    private static readonly AsyncLocal<QuantumScope?> s_current = new();

    private readonly QuantumScope? _outer;
    private readonly TimeSpan _cpuAtStart;
    private long _gets;
    private long _bytesRead;
    private bool _disposed;

    private QuantumScope(QuantumProvenance provenance)
    {
        Provenance = provenance;
        _outer = s_current.Value;
        using var process = Process.GetCurrentProcess();
        _cpuAtStart = process.TotalProcessorTime;
    }

    /// <summary>The scope of the current flow, or null outside any quantum.</summary>
    public static QuantumScope? Current => s_current.Value;

    /// <summary>The quantum's provenance (the software version is <see cref="SoftwareVersion.Current"/>).</summary>
    public QuantumProvenance Provenance { get; }

    /// <summary>Starts measuring a quantum in the current async flow; dispose it when the quantum ends.</summary>
    public static QuantumScope Begin(QuantumProvenance provenance)
    {
        ArgumentNullException.ThrowIfNull(provenance);
        var scope = new QuantumScope(provenance);
        s_current.Value = scope;
        return scope;
    }

    /// <summary>One GET the dataset store sent for this quantum and the bytes it returned.</summary>
    public void RecordGet(long bytes)
    {
        Interlocked.Increment(ref _gets);
        Interlocked.Add(ref _bytesRead, bytes);
    }

    /// <summary>The usage so far.</summary>
    public QuantumUsage Usage()
    {
        using var process = Process.GetCurrentProcess();
        return new QuantumUsage((process.TotalProcessorTime - _cpuAtStart).TotalSeconds, process.PeakWorkingSet64,
            Interlocked.Read(ref _gets), Interlocked.Read(ref _bytesRead));
    }

    /// <summary>Ends the scope: the flow is back in the scope it was in before.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (s_current.Value == this)
            {
                s_current.Value = _outer;
            }
        }
    }
}
