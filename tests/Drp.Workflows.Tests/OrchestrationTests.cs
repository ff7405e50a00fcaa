using Drp.Local;
using System.Collections.Concurrent;
using Drp.Pipeline.Fits;
using Drp.Storage.Arrivals;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Drp.Workflows.Arrivals;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Workflows.Tests;

/// <summary>
/// The real orchestrators on the in-process Durable Task test host (persistence is not the point here), with the
/// activities replaced by recorders registered under the real activity names.
/// </summary>
public sealed class OrchestrationTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ArrivalHandler_DuplicateEvent_StartsIngestOnce()
    {
        int ingests = 0;
        await using var host = await InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<IngestRawOrchestrator>();
            tasks.AddActivityFunc<IngestRawInput, IngestRawResult>(nameof(IngestRawActivity), (_, input) =>
            {
                Interlocked.Increment(ref ingests);
                return new IngestRawResult(IngestRawResult.Registered, input.Arrival.Container, input.Arrival.BlobName, "LSSTCam", 1, 2, null);
            });
        });
        var handler = new RawArrivalHandler(host.Client, new Drp.Execution.ProcessingOptions(), NullLogger<RawArrivalHandler>.Instance);
        string Event(string id) => BlobCreatedEvents.Create("acct", "raw", "LSSTCam/1/raw_1_002.fits",
            new Uri("http://127.0.0.1/acct/raw/LSSTCam/1/raw_1_002.fits"), "0x1", 100, id);

        var first = await handler.HandleAsync(Event("e1"));
        var second = await handler.HandleAsync(Event("e2"));
        var instanceId = IngestRawOrchestrator.InstanceIdFor("raw", "LSSTCam/1/raw_1_002.fits");
        await host.Client.WaitForInstanceCompletionAsync(instanceId, new CancellationTokenSource(s_timeout).Token);
        var third = await handler.HandleAsync(Event("e3"));

        Assert.Equal(ArrivalOutcome.Started, first);
        Assert.Equal(ArrivalOutcome.Duplicate, second);
        Assert.Equal(ArrivalOutcome.Duplicate, third);
        Assert.Equal(1, ingests);
    }

    [Fact]
    public async Task ArrivalHandler_NotAnEvent_ThrowsInvalidArrivalAndStartsNothing()
    {
        await using var host = await InProcessTestHosts.StartAsync(tasks => tasks.AddOrchestrator<IngestRawOrchestrator>());
        var handler = new RawArrivalHandler(host.Client, new Drp.Execution.ProcessingOptions(), NullLogger<RawArrivalHandler>.Instance);
        await Assert.ThrowsAsync<InvalidArrivalException>(() => handler.HandleAsync("{\"hello\":1}"));
    }

    [Fact]
    public void RetryPolicies_PermanentErrorTypes_AreRecognisedAlsoWhenWrapped()
    {
        var inner = new TaskFailureDetails(typeof(FitsFormatException).FullName!, "bad", null, null, null);
        Assert.True(RetryPolicies.IsPermanent(inner));
        Assert.True(RetryPolicies.IsPermanent(new TaskFailureDetails("Wrapper", "x", null, inner, null)));
        Assert.False(RetryPolicies.IsPermanent(new TaskFailureDetails(typeof(IOException).FullName!, "x", null, null, null)));
        Assert.True(RetryPolicies.IsPermanent(new TaskFailureDetails(typeof(Drp.Pipeline.SingleFrame.IsrInputException).FullName!, "bad raw", null, null, null)));
        Assert.True(RetryPolicies.IsPermanent(new TaskFailureDetails(typeof(Drp.Pipeline.Catalogs.ReferenceCatalogException).FullName!, "bad refcat", null, null, null)));
    }

    private static T Fail<T>(Exception e) => throw e;

    private static async Task<T> WaitAsync<T>(DurableTaskClient client, string id)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        return state.ReadOutputAs<T>()!;
    }
}
