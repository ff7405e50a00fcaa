using Drp.Execution;
using Microsoft.DurableTask;

namespace Drp.Workflows.Activities;

/// <summary>One quantum of any step as a Durable activity: the <see cref="QuantumRunner"/>, nothing else.</summary>
public sealed class RunQuantumActivity(QuantumRunner runner) : TaskActivity<QuantumRequest, QuantumResult>
{
    /// <inheritdoc />
    public override Task<QuantumResult> RunAsync(TaskActivityContext context, QuantumRequest input) => runner.RunAsync(input);
}
