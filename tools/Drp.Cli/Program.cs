using System.CommandLine;
using Drp.Cli;
using Drp.Cli.Report;

var root = new RootCommand("drp: Serverless.Drp's operator command — run a Data Release Production locally, simulate a survey.");
root.Options.Add(CliErrors.Verbose);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(ProcessFrameCommand.Create());
root.Subcommands.Add(SchemaCommand.Create());
root.Subcommands.Add(SkymapCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(PlatformCommands.Azurite());
root.Subcommands.Add(PlatformCommands.Worker());
foreach (var command in OperatorCommands.Create())
{
    root.Subcommands.Add(command);
}
foreach (var command in CampaignCommands.Create())
{
    root.Subcommands.Add(command);
}
root.Subcommands.Add(ReportCommand.Create());
// Every error a command leaves unhandled ends here: a line that says what failed, a documented exit code, and the
// stack trace only with --verbose (CliErrors).
var parsed = root.Parse(args);
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false,
        // Time for a command to stop its hosts and its Azurite (SIGTERM, so a persistent one saves) after Ctrl+C.
        ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
    });
}
// Only Ctrl+C or SIGTERM cancels a command's token.
catch (OperationCanceledException)
{
    string command = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name;
    Console.Error.WriteLine($"drp {command}: interrupted (Ctrl+C); what was written stays, and the same command resumes from it");
    return CliErrors.Interrupted;
}
catch (Exception e)
{
    string command = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name;
    return CliErrors.Report(e, command, parsed.GetValue(CliErrors.Verbose), Console.Error);
}
