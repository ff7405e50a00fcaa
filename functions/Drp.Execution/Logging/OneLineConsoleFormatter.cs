using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Drp.Execution.Logging;

/// <summary>Options of <see cref="OneLineConsoleFormatter"/>.</summary>
public sealed class OneLineConsoleFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>Print an exception's stack trace (and a library's message's own) after the line (<c>--verbose</c>).</summary>
    public bool IncludeStackTraces { get; set; }
}

/// <summary>
/// The console log of every drp process: one line per entry (time, level, category, message, and an exception's type
/// and first line), stack traces only when asked, including those libraries write into their messages themselves.
/// </summary>
public sealed class OneLineConsoleFormatter(IOptionsMonitor<OneLineConsoleFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "drp";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string? message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }
        var o = options.CurrentValue;
        var line = new StringBuilder();
        if (o.TimestampFormat is { } format)
        {
            line.Append((o.UseUtcTimestamp ? DateTimeOffset.UtcNow : DateTimeOffset.Now).ToString(format, System.Globalization.CultureInfo.InvariantCulture));
        }
        line.Append(Level(logEntry.LogLevel)).Append(": ").Append(logEntry.Category).Append('[').Append(logEntry.EventId.Id).Append("] ");
        line.Append(o.IncludeStackTraces ? message : WithoutStackTraces(message ?? ""));
        if (logEntry.Exception is { } e)
        {
            if (o.IncludeStackTraces)
            {
                line.AppendLine().Append(e);
            }
            else
            {
                var inner = e;
                while (inner.InnerException is { } next)
                {
                    inner = next;
                }
                line.Append(" (").Append(e.GetType().Name).Append(": ").Append(FirstLine(e.Message));
                if (!ReferenceEquals(inner, e))
                {
                    line.Append(" <- ").Append(inner.GetType().Name).Append(": ").Append(FirstLine(inner.Message));
                }
                line.Append(')');
            }
        }
        textWriter.WriteLine(line.ToString());
    }

    /// <summary>The message on one line, without the stack frames a library put in it (its own exception's ToString()).</summary>
    public static string WithoutStackTraces(string message) =>
        string.Join(" ", message.ReplaceLineEndings("\n").Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("--- End of", StringComparison.Ordinal)));

    private static string FirstLine(string s) => s.ReplaceLineEndings("\n").Split('\n', 2)[0].Trim();

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}

/// <summary>Wires the one-line console log.</summary>
public static class ConsoleLogging
{
    /// <summary>Replaces the console log with <see cref="OneLineConsoleFormatter"/>; stack traces only when <paramref name="verbose"/>.</summary>
    public static ILoggingBuilder AddDrpConsole(this ILoggingBuilder logging, bool verbose)
    {
        logging.ClearProviders();
        logging.AddConsole(o => o.FormatterName = OneLineConsoleFormatter.FormatterName);
        logging.AddConsoleFormatter<OneLineConsoleFormatter, OneLineConsoleFormatterOptions>(o =>
        {
            o.TimestampFormat = "HH:mm:ss ";
            o.IncludeStackTraces = verbose;
        });
        return logging;
    }
}
