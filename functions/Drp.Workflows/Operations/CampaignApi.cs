using System.Net;
using System.Text.Json;

namespace Drp.Workflows.Operations;

/// <summary>
/// What the operator API's hosts (the Functions app, and <c>drp worker --api-port</c> locally) share beyond
/// <see cref="CampaignOperations"/>: request bodies, JSON options and the HTTP status of each typed error.
/// </summary>
public static class CampaignApi
{
    /// <summary>JSON as the API reads and writes it (camelCase names, case-insensitive reads).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>The HTTP status for an operation's typed error: bad input 400, no campaign 404, wrong state 409; null for any other (a 500).</summary>
    public static HttpStatusCode? StatusFor(Exception e) => e switch
    {
        ArgumentException or JsonException => HttpStatusCode.BadRequest,
        CampaignNotFoundException => HttpStatusCode.NotFound,
        CampaignStateException => HttpStatusCode.Conflict,
        _ => null,
    };
}

/// <summary>The body of POST /api/campaigns/{run}: the instrument is required; no steps means every step that can run.</summary>
public sealed record StartCampaignRequest(string? Instrument, IReadOnlyList<string>? Steps = null, bool? RequireApproval = null, double? MaxFailedFraction = null, string? CalibCollection = null,
    Core.Planning.JobExecutor? Executor = null)
{
    /// <summary>The campaign input for <paramref name="run"/>, defaults filled in (checked by <see cref="CampaignOperations.Validate"/>).</summary>
    public CampaignInput ToInput(string run) =>
        new(run, Instrument ?? "", Steps ?? [], CalibCollection ?? "calib", MaxFailedFraction ?? 0.05, RequireApproval ?? false, Executor);
}

/// <summary>The optional body of POST /api/campaigns/{run}/approve: <c>{"approved": false, "reason": "..."}</c> rejects.</summary>
public sealed record ApproveCampaignRequest(bool? Approved = null, string? Reason = null);

/// <summary>The body of POST /api/campaigns/{run}/terminate: the reason is required.</summary>
public sealed record TerminateCampaignRequest(string? Reason);
