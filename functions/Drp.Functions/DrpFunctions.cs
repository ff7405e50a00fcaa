using Drp.Execution.Jobs;
using System.Net;
using Drp.Execution;
using Drp.Storage.Arrivals;
using Drp.Workflows;
using Drp.Workflows.Activities;
using Drp.Workflows.Arrivals;
using Drp.Workflows.Jobs;
using Drp.Workflows.Operations;
using Drp.Workflows.Orchestrators;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Drp.Functions;

/// <summary>
/// Thin Functions adapters: each trigger forwards to the class in Drp.Workflows of the same name, so the Functions
/// host and the local host run identical code. Function names come from the classes (nameof), never literals.
/// </summary>
public sealed class DrpFunctions(IServiceProvider services, ILogger<DrpFunctions> logger)
{
    // ---- arrivals: Event Grid BlobCreated -> Storage queue -> here ----

    /// <summary>A raw landed: start its ingest (a duplicate event starts nothing). Poison messages go to the poison queue after maxDequeueCount.</summary>
    [Function(nameof(OnRawArrival))]
    public async Task OnRawArrival(
        [QueueTrigger("%Drp:Storage:ArrivalsQueue%", Connection = "AzureWebJobsStorage")] string message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        try
        {
            var handler = new RawArrivalHandler(client, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProcessingOptions>>().Value,
                services.GetRequiredService<ILogger<RawArrivalHandler>>());
            await handler.HandleAsync(message, cancellationToken);
        }
        catch (InvalidArrivalException e)
        {
            // Not retriable: log it and let the message go (the Registry's rejected rows are for files, not events).
            logger.LogError(e, "Discarded an arrival message that is not a BlobCreated event: {Reason}", e.Message);
        }
    }

    // ---- operator API ----

    /// <summary>
    /// POST /api/campaigns/{run} with <see cref="StartCampaignRequest"/> as JSON: start the run's campaign. 202 and the
    /// Durable status URLs when started; 200 and the same URLs when it already exists (nothing started); 400 on bad input.
    /// </summary>
    [Function(nameof(StartCampaign))]
    public Task<HttpResponseData> StartCampaign(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "campaigns/{run}")] HttpRequestData request,
        string run,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
        {
            var body = await ReadBodyAsync<StartCampaignRequest>(request, cancellationToken) ?? new StartCampaignRequest(null);
            var start = await Operations(client).StartAsync(body.ToInput(run), cancellationToken);
            logger.LogInformation("Campaign of run {Run}: {InstanceId}, created {Created}", run, start.InstanceId, start.Created);
            return await client.CreateCheckStatusResponseAsync(request, start.InstanceId, start.Created ? HttpStatusCode.Accepted : HttpStatusCode.OK, cancellationToken);
        });

    /// <summary>GET /api/campaigns/{run}: phase, current step and its progress, reason, the ledger's quanta per step and state; 404 when the run has neither a campaign nor quanta.</summary>
    [Function(nameof(GetCampaign))]
    public Task<HttpResponseData> GetCampaign(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "campaigns/{run}")] HttpRequestData request,
        string run,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
        {
            var status = await Operations(client).GetStatusAsync(run, cancellationToken) ?? throw new CampaignNotFoundException(run);
            return await JsonAsync(request, HttpStatusCode.OK, status, cancellationToken);
        });

    /// <summary>GET /api/campaigns/{run}/failures: failed and unprocessable quanta by error class, with examples.</summary>
    [Function(nameof(GetCampaignFailures))]
    public Task<HttpResponseData> GetCampaignFailures(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "campaigns/{run}/failures")] HttpRequestData request,
        string run,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
            await JsonAsync(request, HttpStatusCode.OK, await Operations(client).GetFailuresAsync(run, cancellationToken: cancellationToken), cancellationToken));

    /// <summary>POST /api/campaigns/{run}/approve with optional <see cref="ApproveCampaignRequest"/> (default: approve): decide the gate it waits at; 409 when it is not waiting.</summary>
    [Function(nameof(ApproveCampaign))]
    public Task<HttpResponseData> ApproveCampaign(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "campaigns/{run}/approve")] HttpRequestData request,
        string run,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
        {
            var body = await ReadBodyAsync<ApproveCampaignRequest>(request, cancellationToken) ?? new ApproveCampaignRequest();
            var gate = await Operations(client).ApproveAsync(run, body.Approved ?? true, body.Reason, cancellationToken);
            return await JsonAsync(request, HttpStatusCode.Accepted, gate, cancellationToken);
        });

    /// <summary>POST /api/campaigns/{run}/terminate with <see cref="TerminateCampaignRequest"/>: terminate it and its running steps; 409 when it is not running.</summary>
    [Function(nameof(TerminateCampaign))]
    public Task<HttpResponseData> TerminateCampaign(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "campaigns/{run}/terminate")] HttpRequestData request,
        string run,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
        {
            var body = await ReadBodyAsync<TerminateCampaignRequest>(request, cancellationToken);
            int terminated = await Operations(client).TerminateAsync(run, body?.Reason ?? "", cancellationToken);
            return await JsonAsync(request, HttpStatusCode.Accepted, new { terminated }, cancellationToken);
        });

    /// <summary>
    /// POST /api/campaigns/{run}/steps/{step}/rescue: run a step of the stopped campaign again (succeeded quanta are
    /// skipped); 202 with the rescue's instance id; 404 without a campaign; 409 while it or an earlier rescue is active.
    /// </summary>
    [Function(nameof(RescueCampaignStep))]
    public Task<HttpResponseData> RescueCampaignStep(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "campaigns/{run}/steps/{step}/rescue")] HttpRequestData request,
        string run,
        string step,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
        {
            var rescue = await Operations(client).RescueStepAsync(run, step, cancellationToken);
            return await JsonAsync(request, HttpStatusCode.Accepted, new { id = rescue.InstanceId, rescue.Created, rescue.RuntimeStatus }, cancellationToken);
        });

    /// <summary>DELETE /api/campaigns/{run}: purge the campaign's history and its sub-orchestrations'; 409 while any is active.</summary>
    [Function(nameof(PurgeCampaign))]
    public Task<HttpResponseData> PurgeCampaign(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "campaigns/{run}")] HttpRequestData request,
        string run,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        CampaignCallAsync(request, async () =>
            await JsonAsync(request, HttpStatusCode.OK, new { purged = await Operations(client).PurgeAsync(run, cancellationToken) }, cancellationToken));

    /// <summary>The HTTP status for an operation's typed error (<see cref="CampaignApi.StatusFor"/>, shared with the local host).</summary>
    public static HttpStatusCode? StatusFor(Exception e) => CampaignApi.StatusFor(e);

    private CampaignOperations Operations(DurableTaskClient client) =>
        new(client, services.GetRequiredService<Drp.Storage.StorageClients>(), services.GetRequiredService<Core.Tasks.TaskRegistry>());

    private static async Task<HttpResponseData> CampaignCallAsync(HttpRequestData request, Func<Task<HttpResponseData>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (StatusFor(e) is { } status)
        {
            var response = request.CreateResponse(status);
            await response.WriteStringAsync(e.Message);
            return response;
        }
    }

    private static async Task<T?> ReadBodyAsync<T>(HttpRequestData request, CancellationToken cancellationToken)
        where T : class
    {
        string text = await request.ReadAsStringAsync() ?? "";
        return string.IsNullOrWhiteSpace(text) ? null : System.Text.Json.JsonSerializer.Deserialize<T>(text, CampaignApi.Json);
    }

    private static async Task<HttpResponseData> JsonAsync<T>(HttpRequestData request, HttpStatusCode status, T body, CancellationToken cancellationToken)
    {
        var response = request.CreateResponse(status);
        response.Headers.Add("Content-Type", "application/json; charset=utf-8");
        await response.WriteStringAsync(System.Text.Json.JsonSerializer.Serialize(body, CampaignApi.Json), cancellationToken);
        return response;
    }

    // ---- orchestrators ----

    [Function(nameof(IngestRawOrchestrator))]
    public static Task<IngestRawResult> IngestRawOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new IngestRawOrchestrator().RunAsync(context, context.GetInput<IngestRawInput>()!);

    [Function(nameof(StepOrchestrator))]
    public static Task<StepSummary> StepOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new StepOrchestrator().RunAsync(context, context.GetInput<StepInput>()!);

    [Function(nameof(ChunkOrchestrator))]
    public static Task<ChunkSummary> ChunkOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new ChunkOrchestrator().RunAsync(context, context.GetInput<ChunkInput>()!);

    [Function(nameof(CampaignOrchestrator))]
    public static Task<CampaignResult> CampaignOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new CampaignOrchestrator().RunAsync(context, context.GetInput<CampaignInput>()!);

    [Function(nameof(ProcessJobOrchestrator))]
    public static Task<JobSummary> ProcessJobOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new ProcessJobOrchestrator().RunAsync(context, context.GetInput<JobInput>()!);

    // ---- activities ----

    [Function(nameof(IngestRawActivity))]
    public Task<IngestRawResult> IngestRawActivity([ActivityTrigger] IngestRawInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<IngestRawActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(RunQuantumActivity))]
    public Task<QuantumResult> RunQuantumActivity([ActivityTrigger] QuantumRequest input, CancellationToken cancellationToken) =>
        services.GetRequiredService<QuantumRunner>().RunAsync(input, cancellationToken);

    [Function(nameof(PlanArrivalActivity))]
    public ArrivalPlan PlanArrivalActivity([ActivityTrigger] PlanArrivalInput input) =>
        services.GetRequiredService<PlanArrivalActivity>().Plan(input);

    [Function(nameof(CheckVisitActivity))]
    public Task<VisitCheck> CheckVisitActivity([ActivityTrigger] VisitCheckInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<CheckVisitActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(CatalogQaActivity))]
    public Task<StepQaResult> CatalogQaActivity([ActivityTrigger] StepQaInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<CatalogQaActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(PlanStepActivity))]
    public Task<StepPlan> PlanStepActivity([ActivityTrigger] StepInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<PlanStepActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(LoadJobActivity))]
    public Task<JobWork> LoadJobActivity([ActivityTrigger] JobInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<LoadJobActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(DispatchJobActivity))]
    public Task<JobDispatched> DispatchJobActivity([ActivityTrigger] DispatchJobInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<DispatchJobActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(CheckJobActivity))]
    public Task<JobCheck> CheckJobActivity([ActivityTrigger] JobCheckInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<CheckJobActivity>().ExecuteAsync(input, cancellationToken);

    [Function(nameof(RecordUnfinishedQuantaActivity))]
    public Task<int> RecordUnfinishedQuantaActivity([ActivityTrigger] RecordUnfinishedInput input, CancellationToken cancellationToken) =>
        services.GetRequiredService<RecordUnfinishedQuantaActivity>().ExecuteAsync(input, cancellationToken);

    // ---- container jobs: completions -> the awaiting job orchestration ----

    /// <summary>
    /// A container job reported a delivery (Storage-queue jobs): raise it on the job's orchestration. A message that
    /// is not a completion throws and goes to the poison queue after maxDequeueCount.
    /// </summary>
    [Function(nameof(OnJobCompletion))]
    public Task OnJobCompletion(
        [QueueTrigger("%Drp:Jobs:CompletionsQueue%", Connection = "AzureWebJobsStorage")] string message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.GetRequiredService<JobCompletionRelay>().RelayAsync(client, JobMessages.ParseCompletion(BinaryData.FromString(message)), cancellationToken);
}
