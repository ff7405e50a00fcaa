using System.Diagnostics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// One stage's figures: wall time, CPU time of the whole process, the resident set when it ended, and the bytes the
/// process allocated on the managed heap during it.
/// </summary>
public readonly record struct StageTiming(string Stage, TimeSpan Elapsed, TimeSpan Cpu, long ResidentBytes, long AllocatedBytes);

/// <summary>
/// Wall-clock and CPU time per processing stage, in the order the stages ran (a stage met twice accumulates), with
/// the process's resident set at the stage's end. For the <c>--timings</c> printout of <c>drp process-frame</c>:
/// figures, not a test. CPU time is the steadier figure on a shared machine (it does not count time spent waiting
/// for a core); the resident set shows which stage first touches fresh memory, which costs page faults, and the
/// allocated bytes which stage makes the collector work (and zero memory).
/// </summary>
public sealed class StageTimings
{
    private readonly List<StageTiming> _stages = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _cpu = Environment.CpuUsage.TotalTime;
    private long _allocated = GC.GetTotalAllocatedBytes();

    /// <summary>The stages and their figures, in first-seen order.</summary>
    public IReadOnlyList<StageTiming> Stages => _stages;

    /// <summary>Charges the time since the previous lap (or since creation) to <paramref name="stage"/>.</summary>
    public void Lap(string stage)
    {
        var elapsed = _clock.Elapsed;
        var cpuNow = Environment.CpuUsage.TotalTime;
        var cpu = cpuNow - _cpu;
        long resident = Environment.WorkingSet;
        long allocated = GC.GetTotalAllocatedBytes() - _allocated;
        int i = _stages.FindIndex(s => s.Stage == stage);
        if (i < 0)
        {
            _stages.Add(new StageTiming(stage, elapsed, cpu, resident, allocated));
        }
        else
        {
            _stages[i] = new StageTiming(stage, _stages[i].Elapsed + elapsed, _stages[i].Cpu + cpu, resident, _stages[i].AllocatedBytes + allocated);
        }
        Skip();
    }

    /// <summary>Restarts the clocks without charging anyone (time spent outside the stages).</summary>
    public void Skip()
    {
        _cpu = Environment.CpuUsage.TotalTime;
        _allocated = GC.GetTotalAllocatedBytes();
        _clock.Restart();
    }
}
