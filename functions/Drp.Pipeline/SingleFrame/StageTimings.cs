using System.Diagnostics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// Wall-clock time per processing stage, in the order the stages ran (a stage met twice accumulates). For the
/// <c>--timings</c> printout of <c>drp process-frame</c>: figures, not a test.
/// </summary>
public sealed class StageTimings
{
    private readonly List<(string Stage, TimeSpan Elapsed)> _stages = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The stages and their times, in first-seen order.</summary>
    public IReadOnlyList<(string Stage, TimeSpan Elapsed)> Stages => _stages;

    /// <summary>Charges the time since the previous lap (or since creation) to <paramref name="stage"/>.</summary>
    public void Lap(string stage)
    {
        var elapsed = _clock.Elapsed;
        _clock.Restart();
        int i = _stages.FindIndex(s => s.Stage == stage);
        if (i < 0)
        {
            _stages.Add((stage, elapsed));
        }
        else
        {
            _stages[i] = (stage, _stages[i].Elapsed + elapsed);
        }
    }

    /// <summary>Restarts the clock without charging anyone (time spent outside the stages).</summary>
    public void Skip() => _clock.Restart();
}
