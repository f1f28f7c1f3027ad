import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX, stageFlags} from '../cli/base-command.js'
import type {StageIdle, StagePlan} from '../runner/stage.js'
import type {DownloadIdle, DownloadPlan, DownloadResult} from '../stages/download/stage.js'

export default class Download extends BaseCommand<typeof Download, DownloadResult | DownloadPlan | DownloadIdle | StagePlan | StageIdle> {
  static override summary = 'Download the episodes of selected anime with ani-cli, checking every file and pausing when the disk fills up'
  static override description = `Claims 'queued' jobs whose anime has a usable selection ([download] min_confidence, default medium;
manual choices always), checks once per anime and run that the selected title is still at its index in ani-cli's
list, then runs ani-cli -d -q <quality> -S <index> -e <episode> <query> into a fresh folder on the storage disk.
ani-cli exits 0 even when its downloader failed: a file counts only if it is larger than [download] min_bytes and
ffprobe finds an audio stream and a duration (close to MyAnimeList's episode length when known). It then moves to
<storage_dir>/videos/<mal_id>/episodes/epNNN.<ext> and the job to 'downloaded'.
Downloads pause when the disk use of root_dir and storage_dir reaches pause_threshold_gb (or would pass
hard_limit_gb, or a filesystem would keep less than min_free_gb) and resume at resume_threshold_gb.`
  static override examples = [
    '<%= config.bin %> download',
    '<%= config.bin %> download --workers 10 --anime-id 5114',
    '<%= config.bin %> download --limit 20 --no-wait   # from cron: exit 75 when the disk is full',
    '<%= config.bin %> download --dry-run',
  ]

  static override flags = {
    ...stageFlags,
    workers: Flags.integer({
      char: 'w',
      description: 'episodes downloaded at once (default [disk_management] max_concurrent_downloads)',
      min: 1,
      max: FLAG_MAX.workers,
      helpGroup: 'STAGE',
    }),
    'no-wait': Flags.boolean({description: 'exit 75 instead of waiting when the disk is over its thresholds (for cron)', default: false}),
    quality: Flags.string({description: 'ani-cli -q: worst, best or a resolution such as 480 (default [download] quality)'}),
  }

  public async run(): Promise<void> {
    const {download} = await import('../stages/download/stage.js')
    this.finish(
      await download(this.context(), {
        workers: this.flags.workers,
        limit: this.flags.limit,
        malId: this.flags['anime-id'],
        noWait: this.flags['no-wait'],
        quality: this.flags.quality,
        dryRun: this.flags['dry-run'],
      }),
    )
  }
}
