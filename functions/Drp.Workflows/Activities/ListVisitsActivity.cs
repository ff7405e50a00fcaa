using Drp.Storage;
using Drp.Storage.Registry;
using Microsoft.DurableTask;

namespace Drp.Workflows.Activities;

/// <summary>Lists the visits of step 1 from the Registry: every registered detector, grouped by visit.</summary>
public sealed class ListVisitsActivity(StorageClients storage) : TaskActivity<Step1Input, List<VisitWork>>
{
    public override Task<List<VisitWork>> RunAsync(TaskActivityContext context, Step1Input input) => ExecuteAsync(input);

    public async Task<List<VisitWork>> ExecuteAsync(Step1Input input, CancellationToken cancellationToken = default)
    {
        var raws = await new RegistryTable(storage.Registry).ListAsync(input.Instrument, cancellationToken);
        return raws
            .GroupBy(r => r.Visit)
            .OrderBy(g => g.Key)
            .Select(g => new VisitWork(g.Key, g.First().Band, g.Select(r => r.Detector).Order().ToList()))
            .ToList();
    }
}
