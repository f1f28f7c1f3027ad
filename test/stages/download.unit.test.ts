// download's decisions: the disk rule (a pure function), the expected episode size, and finding the
// selected show again in ani-cli's list (the real AniCli client on the fake ani-cli).
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import type {SelectionRow} from '../../src/queue/selections.js'
import {decide, typicalSize, type DiskLimits, type DiskReading} from '../../src/stages/download/disk-monitor.js'
import {findSelected} from '../../src/stages/download/selection.js'
import {AniCli, SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {ROOT, tempDir} from '../helpers.js'

const MB = 1e6
const limits: DiskLimits = {hardLimit: 110 * MB, pause: 100 * MB, resume: 80 * MB, minFree: 0}
const reading = (usage: number, free = 1e12): DiskReading => ({usage, temporary: usage, filesystems: [{label: 'root_dir', device: 1, free}]})

describe('download: the disk rule', () => {
  it('pauses at the threshold and resumes only at the resume threshold', () => {
    expect(decide(reading(50 * MB), limits, [], 5 * MB, false, 1)).to.include({claim: true, paused: false})
    const at = decide(reading(100 * MB), limits, [], 5 * MB, false, 1)
    expect(at).to.include({claim: false, paused: true})
    expect(at.reason).to.match(/pause threshold/)
    expect(decide(reading(90 * MB), limits, [], 5 * MB, true, 1)).to.include({claim: false, paused: true})
    expect(decide(reading(80 * MB), limits, [], 5 * MB, true, 1)).to.include({claim: true, paused: false})
  })

  it('counts what running downloads will still write against the hard limit, and a block is a pause until the resume threshold', () => {
    // 95 used + 2 × 5 to come + 5 for the next = 110: exactly the limit is allowed
    expect(decide(reading(95 * MB), limits, [5 * MB, 5 * MB], 5 * MB, false, 1).claim).to.equal(true, 'exactly the hard limit is allowed')
    expect(decide(reading(70 * MB), limits, [15 * MB, 20 * MB], 5 * MB, false, 1)).to.include({claim: true})
    const over = decide(reading(70 * MB), limits, [20 * MB, 20 * MB], 5 * MB, false, 1)
    expect(over).to.include({claim: false, paused: true, projected: 115 * MB})
    expect(over.reason).to.match(/40\.0 MB still to come from 2 running download\(s\) \+ 5\.00 MB for the next would pass the hard limit of 110\.0 MB/)
    // no flapping: at 89 MB (under pause, over resume) a paused monitor stays paused
    expect(decide(reading(89 * MB), limits, [], 5 * MB, over.paused, 1)).to.include({claim: false, paused: true})
  })

  it('keeps min_free_gb free on the filesystem downloads write to', () => {
    const tight: DiskLimits = {...limits, minFree: 20 * MB}
    const d = decide(reading(10 * MB, 30 * MB), tight, [6 * MB], 5 * MB, false, 1)
    expect(d).to.include({claim: false, paused: true})
    expect(d.reason).to.match(/has 30\.0 MB free and 11\.0 MB to be written, under min_free_gb/)
    // another filesystem (root_dir on its own disk) only needs its own free space
    expect(decide(reading(10 * MB, 30 * MB), tight, [6 * MB], 5 * MB, false, 2).claim).to.equal(true)
  })

  it('expects the 90th percentile of recent sizes, not one outlier', () => {
    expect(typicalSize([], 250 * MB)).to.equal(250 * MB)
    const sizes = [...Array.from({length: 99}, (_, i) => (100 + i) * MB), 2000 * MB]
    expect(typicalSize(sizes, 1)).to.equal(189 * MB)
    expect(typicalSize([7], 1)).to.equal(7)
  })
})

describe('download: finding the selected show again', function () {
  this.timeout(30_000)
  const fake = path.join(ROOT, 'test', 'fakes', 'bin', 'ani-cli')

  function cli(searches: Record<string, unknown>, countsInMenu = false): AniCli {
    const file = path.join(tempDir(), 'searches.json')
    writeFileSync(file, JSON.stringify({searches, countsInMenu}))
    return new AniCli({path: fake, timeoutMs: 20_000, workRoot: path.join(tempDir(), 'tmp'), env: {...process.env, ANI_CLI_FAKE_DATA: file}})
  }

  const selection = (over: Partial<SelectionRow>): SelectionRow => ({
    mal_id: 1,
    anime_title: 'Show',
    search_query: 'Show',
    selected_index: 1,
    selected_title: 'Show',
    confidence: 'high',
    reason: null,
    mal_episodes: 12,
    selected_episodes: 12,
    episode_match: 'exact',
    method: 'rule',
    model: null,
    api_calls: 0,
    cost_usd: 0,
    created_at: '2026-01-01 00:00:00.000',
    updated_at: null,
    ...over,
  })

  it('finds a title that moved, keeps one that did not, and says gone when it is not listed', async () => {
    const ani = cli({
      Show: [
        {title: 'Show 2', episodes: 12},
        {title: 'Show', episodes: 12},
      ],
    })
    expect(await findSelected(ani, selection({selected_index: 1}))).to.deep.equal({kind: 'found', index: 2, movedFrom: 1})
    expect(await findSelected(ani, selection({selected_index: 2}))).to.deep.equal({kind: 'found', index: 2})
    const gone = await findSelected(ani, selection({selected_title: 'Other'}))
    expect(gone.kind).to.equal('gone')
  })

  it('tells same-titled results apart by episode count, allowing for an airing show that gained episodes', async () => {
    const ani = cli(
      {
        Show: [
          {title: 'Show', episodes: 1},
          {title: 'Show', episodes: 14},
        ],
      },
      true,
    )
    expect(await findSelected(ani, selection({selected_index: 1, selected_episodes: 12}))).to.deep.equal({kind: 'found', index: 2, movedFrom: 1})
    const blind = cli(
      {
        Show: [
          {title: 'Show', episodes: 1},
          {title: 'Show', episodes: 14},
        ],
      },
      false,
    )
    expect((await findSelected(blind, selection({selected_index: 3}))).kind, 'no counts shown: cannot tell').to.equal('gone')
  })

  it('finds a single result again among new ones by its episode count, and a list that shrank to one when the count fits', async () => {
    const grew = cli(
      {
        Show: [
          {title: 'Show Season 2', episodes: 10},
          {title: 'Show', episodes: 12},
        ],
      },
      true,
    )
    expect(await findSelected(grew, selection({selected_title: SINGLE_RESULT_TEXT, selected_index: 1}))).to.deep.equal({kind: 'found', index: 2, movedFrom: 1})
    const shrank = cli({Show: [{title: 'Show', episodes: 13}]})
    expect(await findSelected(shrank, selection({selected_index: 2, selected_episodes: 12}))).to.deep.equal({kind: 'found', index: 1, movedFrom: 2})
    expect((await findSelected(shrank, selection({selected_index: 2, selected_episodes: 20}))).kind).to.equal('gone')
  })

  it('an empty search is an error worth retrying (an outage looks the same), not a vanished show', async () => {
    const ani = cli({Show: 'outage'})
    let error: Error | undefined
    try {
      await findSelected(ani, selection({}))
    } catch (e) {
      error = e as Error
    }
    expect(error?.message).to.match(/found nothing for "Show" today/)
    expect((error as {transient?: boolean}).transient).to.equal(true)
  })
})
