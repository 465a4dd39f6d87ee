import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { OverviewQuery, OverviewStats } from '@portcullis/api';
import { Roles } from '../auth/index.js';
import { zodDto } from '../common/zod-dto.js';
import { OverviewService } from './overview.service.js';

class OverviewQueryDto extends zodDto(OverviewQuery) {}

@ApiTags('overview')
@Roles('admin', 'steward', 'auditor')
@Controller('overview')
export class OverviewController {
  constructor(private readonly overview: OverviewService) {}

  @Get()
  stats(@Query() query: OverviewQueryDto): Promise<OverviewStats> {
    return this.overview.stats(query as OverviewQuery);
  }
}
