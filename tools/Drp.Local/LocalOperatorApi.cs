using System.Net;
using System.Text.Json;
using Drp.Storage;
using Drp.Workflows.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Drp.Local;

/// <summary>
/// The Functions app's operator API, served by the local host (<c>drp worker --api-port N</c>): the same routes under
/// <c>/api/campaigns/{run}</c>, the same <see cref="CampaignOperations"/>, bodies and status codes
/// (<see cref="CampaignApi"/>). The Durable built-in status endpoints are the Functions host's; here the
/// campaign's own <c>GET /api/campaigns/{run}</c> is the status URL a start returns.
/// </summary>
public static class LocalOperatorApi
{
    /// <summary>Starts the API on 127.0.0.1:<paramref name="port"/> (0: any free port, see the returned app's URLs) over a host's task hub client and storage.</summary>
    public static async Task<WebApplication> StartAsync(IServiceProvider host, int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddSingleton(host.GetRequiredService<DurableTaskClient>());
        builder.Services.AddSingleton(host.GetRequiredService<StorageClients>());
        builder.Services.AddSingleton<CampaignOperations>(sp => new(sp.GetRequiredService<DurableTaskClient>(), sp.GetRequiredService<StorageClients>()));
        var app = builder.Build();
        Map(app);
        await app.StartAsync(cancellationToken);
        return app;
    }

    /// <summary>Maps the operator routes (the Functions app's <c>campaigns/...</c> routes under <c>/api</c>).</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/campaigns/{run}");
        api.MapPost("", (HttpContext http, string run, CampaignOperations ops) => CallAsync(async () =>
        {
            var body = await ReadAsync<StartCampaignRequest>(http) ?? new StartCampaignRequest(null);
            var start = await ops.StartAsync(body.ToInput(run), http.RequestAborted);
            string statusUri = $"{http.Request.Scheme}://{http.Request.Host}/api/campaigns/{Uri.EscapeDataString(run)}";
            http.Response.Headers.Location = statusUri;
            return Results.Json(new { id = start.InstanceId, start.Created, start.RuntimeStatus, statusQueryGetUri = statusUri }, CampaignApi.Json,
                statusCode: (int)(start.Created ? HttpStatusCode.Accepted : HttpStatusCode.OK));
        }));
        api.MapGet("", (HttpContext http, string run, CampaignOperations ops) => CallAsync(async () =>
            Results.Json(await ops.GetStatusAsync(run, http.RequestAborted) ?? throw new CampaignNotFoundException(run), CampaignApi.Json)));
        api.MapGet("/failures", (HttpContext http, string run, CampaignOperations ops) => CallAsync(async () =>
            Results.Json(await ops.GetFailuresAsync(run, cancellationToken: http.RequestAborted), CampaignApi.Json)));
        api.MapPost("/approve", (HttpContext http, string run, CampaignOperations ops) => CallAsync(async () =>
        {
            var body = await ReadAsync<ApproveCampaignRequest>(http) ?? new ApproveCampaignRequest();
            var gate = await ops.ApproveAsync(run, body.Approved ?? true, body.Reason, http.RequestAborted);
            return Results.Json(gate, CampaignApi.Json, statusCode: (int)HttpStatusCode.Accepted);
        }));
        api.MapPost("/terminate", (HttpContext http, string run, CampaignOperations ops) => CallAsync(async () =>
        {
            var body = await ReadAsync<TerminateCampaignRequest>(http);
            int terminated = await ops.TerminateAsync(run, body?.Reason ?? "", http.RequestAborted);
            return Results.Json(new { terminated }, CampaignApi.Json, statusCode: (int)HttpStatusCode.Accepted);
        }));
        api.MapPost("/steps/{step}/rescue", (HttpContext http, string run, string step, CampaignOperations ops) => CallAsync(async () =>
        {
            var rescue = await ops.RescueStepAsync(run, step, http.RequestAborted);
            return Results.Json(new { id = rescue.InstanceId, rescue.Created, rescue.RuntimeStatus }, CampaignApi.Json, statusCode: (int)HttpStatusCode.Accepted);
        }));
        api.MapDelete("", (HttpContext http, string run, CampaignOperations ops) => CallAsync(async () =>
            Results.Json(new { purged = await ops.PurgeAsync(run, http.RequestAborted) }, CampaignApi.Json)));
    }

    private static async Task<IResult> CallAsync(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (CampaignApi.StatusFor(e) is { } status)
        {
            return Results.Text(e.Message, statusCode: (int)status);
        }
    }

    private static async Task<T?> ReadAsync<T>(HttpContext http)
        where T : class
    {
        using var reader = new StreamReader(http.Request.Body);
        string text = await reader.ReadToEndAsync(http.RequestAborted);
        return string.IsNullOrWhiteSpace(text) ? null : JsonSerializer.Deserialize<T>(text, CampaignApi.Json);
    }
}
