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
    public async Task VisitOrchestrator_OneDetectorAlwaysFails_OthersSucceedAndOnlyTheyAreConsolidated()
    {
        var attempts = new ConcurrentDictionary<int, int>();
        ConsolidateVisitInput? consolidated = null;
        await using var host = await InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<ProcessVisitOrchestrator>();
            tasks.AddActivityFunc<DetectorQuantum, QuantumResult>(nameof(ProcessDetectorActivity), (_, q) =>
            {
                attempts.AddOrUpdate(q.Detector, 1, (_, n) => n + 1);
                if (q.Detector == 2)
                {
                    throw new IOException("storage went away");
                }
                return new QuantumResult(q.Visit, q.Detector, QuantumState.Succeeded, 1, 10, null, null, false, 1);
            });
            tasks.AddActivityFunc<ConsolidateVisitInput, ConsolidateVisitResult>(nameof(ConsolidateVisitSourcesActivity), (_, input) =>
            {
                consolidated = input;
                return new ConsolidateVisitResult("path", input.Detectors.Count * 10);
            });
        });

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ProcessVisitOrchestrator),
            new VisitInput("run", "LSSTCam", "calib", new VisitWork(5, "r", [0, 1, 2, 3])));
        var result = await WaitAsync<VisitResult>(host.Client, id);

        Assert.Equal(4, result.Quanta.Count);
        Assert.Equal(QuantumState.Failed, result.Quanta.Single(q => q.Detector == 2).State);
        Assert.Contains("IOException", result.Quanta.Single(q => q.Detector == 2).ErrorClass);
        Assert.Equal(3, result.Quanta.Count(q => q.State == QuantumState.Succeeded));
        Assert.Equal(3, attempts[2]); // transient: retried up to the policy's 3 attempts
        Assert.All(new[] { 0, 1, 3 }, d => Assert.Equal(1, attempts[d]));
        Assert.Equal([0, 1, 3], consolidated!.Detectors);
        Assert.Equal(30, result.SourceRows);
    }

    [Fact]
    public async Task VisitOrchestrator_BadInputFailure_IsNotRetried()
    {
        int calls = 0;
        await using var host = await InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<ProcessVisitOrchestrator>();
            tasks.AddActivityFunc<DetectorQuantum, QuantumResult>(nameof(ProcessDetectorActivity), (_, q) =>
            {
                Interlocked.Increment(ref calls);
                return Fail<QuantumResult>(new FitsFormatException(FitsErrorKind.Truncated, "raw ends early"));
            });
            tasks.AddActivityFunc<ConsolidateVisitInput, ConsolidateVisitResult>(nameof(ConsolidateVisitSourcesActivity), (_, _) =>
                Fail<ConsolidateVisitResult>(new InvalidOperationException("nothing succeeded: must not consolidate")));
        });

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ProcessVisitOrchestrator),
            new VisitInput("run", "LSSTCam", "calib", new VisitWork(5, "r", [0])));
        var result = await WaitAsync<VisitResult>(host.Client, id);

        Assert.Equal(QuantumState.Failed, result.Quanta.Single().State);
        Assert.Equal(1, calls);
        Assert.Null(result.SourceTableVisitPath);
    }

    [Fact]
    public async Task Step1Orchestrator_ManyVisits_AllProcessedOnceInVisitOrderWithFinalProgress()
    {
        var seen = new ConcurrentDictionary<(long, int), int>();
        const int visits = 20, detectors = 2;
        await using var host = await InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<ProcessStep1Orchestrator>();
            tasks.AddOrchestrator<ProcessVisitOrchestrator>();
            tasks.AddActivityFunc<Step1Input, List<VisitWork>>(nameof(ListVisitsActivity), (_, _) =>
                Enumerable.Range(0, visits).Select(v => new VisitWork(100 + v, "g", Enumerable.Range(0, detectors).ToList())).Reverse().ToList());
            tasks.AddActivityFunc<DetectorQuantum, QuantumResult>(nameof(ProcessDetectorActivity), (_, q) =>
            {
                seen.AddOrUpdate((q.Visit, q.Detector), 1, (_, n) => n + 1);
                return new QuantumResult(q.Visit, q.Detector, q.Detector == 1 && q.Visit == 105 ? QuantumState.Unprocessable : QuantumState.Succeeded, 1, 1, null, null, false, 1);
            });
            tasks.AddActivityFunc<ConsolidateVisitInput, ConsolidateVisitResult>(nameof(ConsolidateVisitSourcesActivity), (_, i) =>
                new ConsolidateVisitResult("p", i.Detectors.Count));
        });

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ProcessStep1Orchestrator), new Step1Input("run", "LSSTCam"));
        var result = await WaitAsync<StepResult>(host.Client, id);
        var state = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);

        Assert.Equal(visits * detectors, seen.Count);
        Assert.All(seen.Values, n => Assert.Equal(1, n));
        Assert.Equal(Enumerable.Range(100, visits).Select(v => (long)v), result.Visits.Select(v => v.Visit));
        Assert.Equal(1, result.Count(QuantumState.Unprocessable));
        var progress = state!.ReadCustomStatusAs<StepProgress>()!;
        Assert.Equal(new StepProgress(visits, visits, visits * detectors, visits * detectors, 0, 1), progress);
    }

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
        var handler = new RawArrivalHandler(host.Client, NullLogger<RawArrivalHandler>.Instance);
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
        var handler = new RawArrivalHandler(host.Client, NullLogger<RawArrivalHandler>.Instance);
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
