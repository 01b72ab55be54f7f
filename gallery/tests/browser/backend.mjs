// The back end the browser tests run against. ALL knowledge about how the
// back end is started and what data it holds lives in this module.
//
// Contract for startBackend():
//   apiUrl        base URL of the participant API (what PHOTOFINISH_API_URL is set to)
//   participants  { [code]: [imageId, ...] }: every participant with photos, each list
//                 in the order the API returns them (oldest first). At least one
//                 participant must have 3 or more photos.
//   unknownCode   a valid code with no photos
//   stopApi()     stop only the participant API (the gallery must then show its 502 page)
//   stop()        stop everything that startBackend() started
//
// Today this serves the API contract from tests/fixtures/*.jpg through
// contract-server.mjs. It is meant to be replaced by one that starts the real
// storage stack and photofinishd, uploads generated photos, waits for them to
// be processed, and reports what the daemon found.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startContractServer } from './contract-server.mjs';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const photo = (n) => path.join(fixtures, `photo-${n}.jpg`);

const PHOTOS = [
	{ id: '627c5e0e5ad279eaebcd10b859e51132', file: photo(1), takenAt: '2026-05-03T08:02:11.480Z', codes: ['10423'] },
	{ id: '4a77628f80b6a86fb771dac9129953c9', file: photo(2), takenAt: '2026-05-03T08:31:45.000Z', codes: ['10577', 'A-7'] },
	{ id: '9b4ebf961535db5375dac1c23f515009', file: photo(3), takenAt: '2026-05-03T08:47:02.250Z', codes: ['10423', '10577'] },
	{ id: '7ffa9b39bea3e00a111a0a50d59ecf68', file: photo(2), takenAt: '2026-05-03T09:14:07.120Z', codes: ['10423'] },
	{ id: 'b5ed7d3656ce38bc15fbfc60b06f340b', file: photo(3), takenAt: null, codes: ['10423'] }
];

export async function startBackend() {
	const api = await startContractServer({ photos: PHOTOS });

	const participants = {};
	const order = [...PHOTOS].sort((a, b) => {
		if (a.takenAt === b.takenAt) return a.id.localeCompare(b.id);
		if (a.takenAt === null) return 1;
		if (b.takenAt === null) return -1;
		return Date.parse(a.takenAt) - Date.parse(b.takenAt);
	});
	for (const p of order) for (const code of p.codes) (participants[code] ??= []).push(p.id);

	return {
		apiUrl: api.url,
		participants,
		unknownCode: '99999',
		stopApi: () => api.stop(),
		stop: () => api.stop()
	};
}
