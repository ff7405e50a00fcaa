using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace Drp.Storage.Registry;

/// <summary>One ingested raw: which exposure and detector it is, and where its file lives.</summary>
public sealed record RawRecord(
    string Instrument,
    long Visit,
    int Detector,
    string Band,
    double ExpTime,
    double MjdObs,
    string Container,
    string BlobName,
    string? ETag);

/// <summary>The outcome of registering a raw: registered (now, or by this same write retried), already there from other content of the blob, or a clash with another file.</summary>
public enum RegisterOutcome
{
    Registered,

    /// <summary>The blob is registered with another ETag: it was uploaded again.</summary>
    AlreadyRegistered,
    Conflict,
}

/// <summary>
/// The Registry: which exposures and detectors exist. One row per (instrument, visit, detector) under partition
/// <c>raw|{instrument}</c>, so a duplicate arrival finds its row and registers nothing twice.
/// </summary>
public sealed class RegistryTable(TableClient table)
{
    private const string RejectedPartition = "rejected";

    public TableClient Table { get; } = table;

    public static string PartitionFor(string instrument) => "raw|" + instrument;

    /// <summary>The query filter of an instrument's raws, or of one visit's: its row keys are one range (<see cref="RowKeyFor"/>).</summary>
    public static string FilterFor(string instrument, long? visit = null)
    {
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionFor(instrument)}");
        if (visit is not { } v)
        {
            return filter;
        }
        string prefix = v.ToString("D10", CultureInfo.InvariantCulture);
        return filter + TableClient.CreateQueryFilter($" and RowKey ge {prefix + "-"} and RowKey lt {prefix + "."}"); // '.' sorts right after '-'
    }

    public static string RowKeyFor(long visit, int detector) =>
        visit.ToString("D10", CultureInfo.InvariantCulture) + "-" + detector.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Adds the raw's row if absent. An existing row for the same blob is a duplicate; for another blob, a conflict.</summary>
    public async Task<(RegisterOutcome Outcome, RawRecord Existing)> RegisterAsync(RawRecord raw, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(PartitionFor(raw.Instrument), RowKeyFor(raw.Visit, raw.Detector))
        {
            ["Instrument"] = raw.Instrument,
            ["Visit"] = raw.Visit,
            ["Detector"] = raw.Detector,
            ["Band"] = raw.Band,
            ["ExpTime"] = raw.ExpTime,
            ["MjdObs"] = raw.MjdObs,
            ["Container"] = raw.Container,
            ["BlobName"] = raw.BlobName,
            ["ETag"] = raw.ETag,
        };
        try
        {
            await Table.AddEntityAsync(entity, cancellationToken);
            return (RegisterOutcome.Registered, raw);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var existing = await GetAsync(raw.Instrument, raw.Visit, raw.Detector, cancellationToken)
                ?? throw new InvalidOperationException($"registry row for visit {raw.Visit} detector {raw.Detector} vanished after a conflict");
            // The same blob and content: this ingest's own write, retried after a lost response or replayed.
            var outcome = existing.Container != raw.Container || existing.BlobName != raw.BlobName ? RegisterOutcome.Conflict
                : existing.ETag == raw.ETag ? RegisterOutcome.Registered
                : RegisterOutcome.AlreadyRegistered;
            return (outcome, existing);
        }
    }

    public async Task<RawRecord?> GetAsync(string instrument, long visit, int detector, CancellationToken cancellationToken = default)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(PartitionFor(instrument), RowKeyFor(visit, detector), cancellationToken: cancellationToken);
        return r.HasValue ? ToRecord(r.Value!) : null;
    }

    /// <summary>Every raw of an instrument, in (visit, detector) order.</summary>
    public async Task<List<RawRecord>> ListAsync(string instrument, CancellationToken cancellationToken = default)
    {
        var list = new List<RawRecord>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionFor(instrument)}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            list.Add(ToRecord(e));
        }
        return list;
    }

    /// <summary>Records an arrival that could not be ingested, with the reason, so it is visible and never retried blindly.</summary>
    public Task RecordRejectedAsync(string container, string blobName, string errorClass, string reason, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(RejectedPartition, SafeKey(container + "/" + blobName))
        {
            ["Container"] = container,
            ["BlobName"] = blobName,
            ["ErrorClass"] = errorClass,
            ["Reason"] = reason.Length > 4000 ? reason[..4000] : reason,
        };
        return Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<List<(string BlobName, string ErrorClass, string Reason)>> ListRejectedAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<(string, string, string)>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {RejectedPartition}");
        try
        {
            await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                list.Add((e.GetString("BlobName"), e.GetString("ErrorClass"), e.GetString("Reason")));
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No Registry table yet (nothing ingested on this account): nothing rejected.
        }
        return list;
    }

    /// <summary>Table keys may not contain '/', '\\', '#', '?' or control characters.</summary>
    public static string SafeKey(string text)
    {
        var chars = text.Select(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c) ? '|' : c).ToArray();
        var s = new string(chars);
        return s.Length <= 512 ? s : s[..512];
    }

    private static RawRecord ToRecord(TableEntity e) => new(
        e.GetString("Instrument"),
        e.GetInt64("Visit") ?? 0,
        e.GetInt32("Detector") ?? 0,
        e.GetString("Band"),
        e.GetDouble("ExpTime") ?? double.NaN,
        e.GetDouble("MjdObs") ?? double.NaN,
        e.GetString("Container"),
        e.GetString("BlobName"),
        e.GetString("ETag"));
}
