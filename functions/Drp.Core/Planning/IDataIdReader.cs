using Drp.Core.Datasets;

namespace Drp.Core.Planning;

/// <summary>
/// What the planner asks its input for: the data ids, at a step's finest grain (<see cref="Dimensions"/>), at which the
/// step's external inputs (<see cref="Inputs"/>: consumed by the step, produced before it) exist.
/// </summary>
/// <param name="Instrument">The instrument whose data is planned.</param>
/// <param name="Dimensions">The dimensions of each returned data id, in the fixed order; a returned id also carries the band when it has a visit (a visit's band is implied).</param>
/// <param name="GroupBy">The step's cluster dimensions: ids sharing their values must come out contiguous, groups in ascending order.</param>
/// <param name="Inputs">The step's external input dataset types.</param>
public sealed record PlanningQuery(string Instrument, IReadOnlyList<string> Dimensions, IReadOnlyList<string> GroupBy, IReadOnlyList<DatasetType> Inputs);

/// <summary>
/// A streaming source of data ids for the planner: the Registry (<see cref="RegistryDataIdReader"/>) or a synthetic
/// survey (<see cref="SyntheticSurveyReader"/>). Implementations stream; they never load a survey into memory.
/// </summary>
public interface IDataIdReader
{
    /// <summary>The distinct data ids answering <paramref name="query"/>, grouped as it asks.</summary>
    IAsyncEnumerable<DataId> ReadAsync(PlanningQuery query, CancellationToken cancellationToken = default);
}
