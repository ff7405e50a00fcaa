using System.CommandLine;
using Drp.Cli;

// The one command of drp that a short-lived process runs on its own: step 1 of one raw, with no Azure.
var root = new RootCommand("drp-frame: drp process-frame as a native executable (same options, outputs and exit codes).");
root.Subcommands.Add(ProcessFrameCommand.Create());
return await root.Parse(args).InvokeAsync();
