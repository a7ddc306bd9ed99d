/**
 * Schedule maths: when a campaign's occurrences are due, when each profile's time zone is due, quiet hours,
 * and how an audience is cut into waves. Everything here is pure.
 * @module campaign-kit/schedule
 */
export {
  dueOccurrences,
  nextOccurrence,
  type Occurrence,
  occurrenceAt,
  occurrencesBetween,
  type ScheduleAnchor,
} from "./occurrences.js";
export {
  type Disambiguation,
  instantAt,
  isInQuietHours,
  type LocalDateTime,
  lastZoneDueAt,
  localDateTimeOf,
  profileDueAt,
  type QuietWindow,
  quietHoursEnd,
  worldDueRange,
} from "./profile-time-zone.js";
export { planWaves, type Wave, type WavePlan, waveOf } from "./waves.js";
