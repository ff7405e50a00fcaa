using System.Globalization;
using Drp.Workflows;
using Drp.Workflows.Operations;

namespace Drp.Cli;

/// <summary>Text rendering of a campaign's status for <c>drp status</c>: phase, step, a progress bar, quanta per step and state.</summary>
public static class CampaignView
{
    /// <summary>A text progress bar: <c>[#########-----------]  9/20  45%</c>. A total of 0 shows an empty bar and no percentage.</summary>
    public static string ProgressBar(long done, long total, int width = 30)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(done);
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (total == 0)
        {
            return $"[{new string('-', width)}]  0/0";
        }
        done = Math.Min(done, total);
        int filled = (int)(done * width / total);
        long percent = done * 100 / total;
        return string.Create(CultureInfo.InvariantCulture, $"[{new string('#', filled)}{new string('-', width - filled)}]  {done}/{total}  {percent}%");
    }

    /// <summary>The status block <c>drp status</c> prints (and redraws with <c>--watch</c>).</summary>
    public static IReadOnlyList<string> Render(CampaignStatus status)
    {
        var lines = new List<string>();
        var p = status.Progress;
        if (status.RuntimeStatus is null)
        {
            lines.Add($"campaign {status.InstanceId}: none");
        }
        else
        {
            lines.Add($"campaign {status.InstanceId}: {status.RuntimeStatus}, last updated {status.LastUpdatedAt:u}");
            if (p is not null)
            {
                lines.Add($"  phase {p.Phase}{(p.Step is null ? "" : $" at {p.Step}")}; steps {ProgressBar(p.StepsDone, p.StepsTotal, 10)}");
                if (status.CurrentStep is { } s && p.Phase == CampaignProgress.Running)
                {
                    lines.Add($"  {p.Step} jobs   {ProgressBar(s.JobsDone, s.JobsTotal)}");
                    lines.Add($"  {p.Step} chunks {ProgressBar(s.ChunksDone, s.ChunksTotal)}  ({s.Failed} failed, {s.Unprocessable} unprocessable so far)");
                }
                if (p.Reason is not null)
                {
                    lines.Add($"  reason: {p.Reason}");
                }
                if (p.Phase == CampaignProgress.WaitingForApproval)
                {
                    lines.Add($"  waiting for approval: drp approve --run {status.Run} [--reject --reason TEXT]");
                }
            }
            if (status.Failure is not null)
            {
                lines.Add($"  {status.RuntimeStatus}: {status.Failure}");
            }
        }
        int total = status.Quanta.Sum(q => q.Total);
        lines.Add($"run {status.Run}: {total} quanta in the ledger");
        if (total > 0)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {"step",-8} {"total",7} {"running",8} {"succeeded",10} {"unprocessable",14} {"failed",7} {"retried",8}"));
            foreach (var q in status.Quanta)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {q.Step,-8} {q.Total,7} {q.Running,8} {q.Succeeded,10} {q.Unprocessable,14} {q.Failed,7} {q.Retried,8}"));
            }
        }
        return lines;
    }
}
