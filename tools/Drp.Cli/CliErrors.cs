using System.Net.Http;
using System.Net.Sockets;
using Drp.Core.Planning;
using Drp.Storage.Datasets;
using Drp.Storage.Resilience;

namespace Drp.Cli;

/// <summary>
/// The edge of every <c>drp</c> command: an error no command handled becomes one or two lines saying what failed and
/// what to do, and a documented exit code; the stack trace only with <c>--verbose</c>.
/// </summary>
internal static class CliErrors
{
    /// <summary>
    /// <c>--verbose</c>, on every command: the hosts' information messages (demo, worker) and, on an error, the stack trace.
    /// </summary>
    public static readonly System.CommandLine.Option<bool> Verbose = new("--verbose")
    {
        Description = "Log the hosts' information messages, and print the stack trace of an error.",
        Recursive = true,
    };

    /// <summary>Exit code of a command stopped by Ctrl+C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code of a command whose storage could not be reached or kept failing past its retry bound.</summary>
    public const int StorageUnavailable = 5;

    /// <summary>Writes the error and returns the exit code: 2 bad input, 5 storage unavailable, 1 anything else (a bug).</summary>
    public static int Report(Exception e, string command, bool verbose, TextWriter stderr)
    {
        var (code, message) = Classify(e);
        stderr.WriteLine($"drp {command}: {message}");
        if (verbose)
        {
            stderr.WriteLine(e.ToString());
        }
        else if (code == 1)
        {
            stderr.WriteLine("  (an internal error: run the command again with --verbose for the stack trace, and report it)");
        }
        return code;
    }

    private static (int Code, string Message) Classify(Exception e) => e switch
    {
        AggregateException { InnerExceptions: [var one] } => Classify(one),
        PipelineDefinitionException p => (2, $"invalid pipeline: {p.Message}"),
        FileNotFoundException f => (2, $"no such file: {f.FileName ?? f.Message}"),
        DirectoryNotFoundException d => (2, d.Message),
        FormatException or ArgumentException when IsConnectionString(e) =>
            (2, $"Drp__Storage__ConnectionString is not a storage connection string ({e.Message})"),
        DatasetUnavailableException u => (StorageUnavailable, $"storage kept failing: {u.Message}"),
        Drp.Storage.Resilience.StorageUnavailableException u when Innermost(u) is HttpRequestException or SocketException =>
            (StorageUnavailable, $"storage unreachable: {Innermost(u).Message} (is Azurite or the account up? Drp__Storage__ConnectionString)"),
        Drp.Storage.Resilience.StorageUnavailableException u => (StorageUnavailable,
            $"storage kept failing: {u.Message} (Drp__Storage__Resilience__TotalTimeout bounds the wait)"),
        Azure.RequestFailedException r when r.Status == 0 || r.InnerException is HttpRequestException or SocketException =>
            (StorageUnavailable, $"storage unreachable: {Innermost(r).Message} (is Azurite or the account up? Drp__Storage__ConnectionString)"),
        Azure.RequestFailedException r => (StorageUnavailable, $"storage refused the request: {r.Status} {r.ErrorCode}: {FirstLine(r.Message)}"),
        HttpRequestException or SocketException => (StorageUnavailable, $"storage unreachable: {Innermost(e).Message} (is Azurite or the account up? Drp__Storage__ConnectionString)"),
        InvalidOperationException i when i.Message.Contains("Azurite is not installed", StringComparison.Ordinal)
            || i.Message.Contains("Cannot find the repository root", StringComparison.Ordinal) => (2, i.Message),
        IOException io when StorageErrors.Find<SocketException>(io) is { SocketErrorCode: SocketError.AddressAlreadyInUse } || io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
            (2, $"a port is in use: {FirstLine(io.Message)} (choose another port, or stop what listens there)"),
        // A library's own wrapper (the task hub's DurableTaskStorageException, ...) around storage that kept failing.
        _ when StorageErrors.Find<Drp.Storage.Resilience.StorageUnavailableException>(e) is { } u => Classify(u),
        _ when StorageErrors.Find<DatasetUnavailableException>(e) is { } d => Classify(d),
        _ => (1, $"{e.GetType().Name}: {FirstLine(e.Message)}"),
    };


    private static bool IsConnectionString(Exception e) =>
        e.StackTrace?.Contains("ConnectionString", StringComparison.Ordinal) == true || e.Message.Contains("connection string", StringComparison.OrdinalIgnoreCase);

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
