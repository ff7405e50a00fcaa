using Drp.Storage.Datasets;
using Drp.Storage.Resilience;
using Microsoft.Extensions.Options;

namespace Drp.Jobs;

/// <summary>
/// The edge of the job runner: an error that ends it becomes one line and an exit code (2 invalid settings, 5 storage
/// unavailable past the retry bound, 1 anything else); the stack trace only with <c>--verbose</c>.
/// </summary>
public static class RunnerErrors
{
    public const int InvalidSettings = 2;
    public const int StorageUnavailable = 5;

    public static int Report(Exception e, bool verbose, TextWriter stderr)
    {
        var (code, message) = Classify(e);
        stderr.WriteLine($"drp-jobs: {message}");
        if (verbose)
        {
            stderr.WriteLine(e.ToString());
        }
        return code;
    }

    private static (int Code, string Message) Classify(Exception e) =>
        StorageErrors.Find<OptionsValidationException>(e) is { } o ? (InvalidSettings, $"invalid settings: {string.Join("; ", o.Failures)}")
        : StorageErrors.Find<StorageUnavailableException>(e) is { } u ? (StorageUnavailable, $"storage kept failing: {u.Message} (Drp__Storage__ConnectionString; Drp__Storage__Resilience__TotalTimeout bounds the wait)")
        : StorageErrors.Find<DatasetUnavailableException>(e) is { } d ? (StorageUnavailable, $"storage kept failing: {d.Message}")
        : (1, $"{e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()} (run with --verbose for the stack trace)");

}
