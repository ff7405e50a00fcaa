using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// Ingests one raw arrival: a durable, retried call of <see cref="IngestRawActivity"/>. Its instance id is derived
/// from the blob name (<see cref="InstanceIdFor"/>), so a duplicate event finds the instance and starts nothing.
/// </summary>
public sealed class IngestRawOrchestrator : TaskOrchestrator<IngestRawInput, IngestRawResult>
{
    public static string InstanceIdFor(string container, string blobName) =>
        "ingest-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(container + "/" + blobName)))[..32];

    public override Task<IngestRawResult> RunAsync(TaskOrchestrationContext context, IngestRawInput input) =>
        context.CallActivityAsync<IngestRawResult>(nameof(IngestRawActivity), input, RetryPolicies.Transient);
}
